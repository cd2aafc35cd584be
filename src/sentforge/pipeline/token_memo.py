"""One run's token ids per text, so that the data doctor, the trainer and the card tokenize each text once."""

from __future__ import annotations

from typing import Any, Callable


class RunTokenMemo:
    """Lent to every model the run loads (all of one base model, so one tokenizer), taken back at the end.

    ``with RunTokenMemo() as memo: preflight(plan, memo.loading(load_model), ...)``: each model's
    Transformer module keeps the untruncated ids of every text it tokenizes in the shared dict; when the
    block ends the modules stop using it and the dict is emptied.
    """

    def __init__(self) -> None:
        self.ids: dict[str, Any] = {}  # text -> its untruncated token ids (an int32 array)
        self._modules: list[Any] = []

    def loading(self, load_model: Callable[..., Any]) -> Callable[..., Any]:
        """``load_model``, with the memo lent to each model it loads."""

        def load(*args: Any, **kwargs: Any) -> Any:
            model = load_model(*args, **kwargs)
            first = model[0] if hasattr(model, "__getitem__") and len(model) else None
            if callable(getattr(first, "use_token_memo", None)):
                first.use_token_memo(self.ids)
                self._modules.append(first)
            return model

        return load

    def __enter__(self) -> "RunTokenMemo":
        return self

    def __exit__(self, *_: Any) -> None:
        for module in self._modules:
            module.use_token_memo(None)
        self._modules.clear()
        self.ids.clear()
