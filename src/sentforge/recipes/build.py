"""Build the loss a recipe names, turning card-style parameter values back into objects.

Model cards print loss parameters as text: ``similarity_fct: cos_sim``, ``loss_fct:
torch.nn.modules.loss.MSELoss``, ``distance_metric: SiameseDistanceMetric.COSINE_DISTANCE``,
``loss: MultipleNegativesRankingLoss`` (inside MatryoshkaLoss). ``build_loss`` maps each back,
so a recipe recovered from a card rebuilds the same loss.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from torch import nn

from ..errors import SentforgeError
from .checks import did_you_mean
from .recipe import LossSpec

_MODULE_PATHS = {"loss_fct", "cos_score_transformation", "activation_function"}
_ENUM_VALUE = re.compile(r"^(?P<group>[A-Z]\w*)\.(?P<member>[A-Z][A-Z0-9_]*)$")


def loss_class(name: str) -> type[nn.Module]:
    """The class a recipe's ``loss.name`` refers to: a sentforge loss or an importable custom class."""
    if "." not in name:
        import sentforge.losses as losses

        found = getattr(losses, name, None)
        if not isinstance(found, type):
            found = getattr(found, name, None)  # ``losses.ContrastiveLoss`` may be the module of that name
        if not isinstance(found, type):
            known = [item for item, value in vars(losses).items() if isinstance(value, type)]
            raise SentforgeError(f"`{name}` is not a sentforge loss.{did_you_mean(name, known)} Fix `loss.name`.")
        return found
    module_name, _, class_name = name.rpartition(".")
    if module_name == "__main__":
        raise SentforgeError(
            f"The loss `{name}` was defined inside the script that trained the original model, so it "
            "cannot be imported. Put the class in a module (e.g. my_losses.py on the Python path) and set "
            f"`loss.name: my_losses.{class_name}`, or use a sentforge loss instead."
        )
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as err:
        raise SentforgeError(
            f"The custom loss `{name}` cannot be imported ({err}). Make `{module_name}` importable "
            "(install it or put it on the Python path) or fix `loss.name`."
        ) from None
    if not isinstance(found, type):
        raise SentforgeError(f"`{name}` is not a class. Point `loss.name` to a loss class.")
    return found


def build_loss(spec: LossSpec, model: nn.Module) -> nn.Module:
    """Instantiate ``spec`` for ``model``: ``LossClass(model, **resolved params)``."""
    if not spec.name:
        raise SentforgeError("The recipe names no loss. Set `loss.name`, e.g. CosineSimilarityLoss.")
    cls = loss_class(spec.name)
    _check_param_names(cls, spec)
    kwargs = {key: _resolve(key, value, cls, model) for key, value in spec.params.items()}
    try:
        return cls(model, **kwargs)
    except (TypeError, ValueError) as err:
        raise SentforgeError(f"Could not build {spec.name} with {spec.params}: {err}. Fix `loss.params`.") from None


def _check_param_names(cls: type, spec: LossSpec) -> None:
    signature = inspect.signature(cls.__init__)
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [name for name in parameters if name not in ("self", "model")]
    for key in spec.params:
        if key not in accepted:
            raise SentforgeError(
                f"{spec.name} has no parameter `{key}`.{did_you_mean(key, accepted)} "
                f"Its parameters: {', '.join(accepted) or '(none)'}. Fix `loss.params`."
            )


def _resolve(key: str, value: Any, cls: type, model: nn.Module) -> Any:
    if not isinstance(value, str):
        return value
    if key == "similarity_fct":
        return _similarity_function(value)
    if key in _MODULE_PATHS or value.startswith("torch.nn."):
        return _torch_module(key, value)
    if key == "loss":
        return build_loss(LossSpec(name=value), model)
    enum_value = _ENUM_VALUE.match(value)
    if enum_value:
        group = getattr(importlib.import_module(cls.__module__), enum_value["group"], None)
        if group is None:
            import sentforge.losses as losses

            group = getattr(losses, enum_value["group"], None)
        if group is not None and hasattr(group, enum_value["member"]):
            return getattr(group, enum_value["member"])
    return value


def _similarity_function(name: str) -> Any:
    for module_name in ("sentforge.similarity", "sentforge.util"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, name, None)
        if callable(function):
            return function
    raise SentforgeError(
        f"Unknown similarity function `{name}`. Use cos_sim, dot_score, euclidean_sim, manhattan_sim "
        "(or their pairwise_ forms) in `loss.params.similarity_fct`."
    )


def _torch_module(key: str, path: str) -> nn.Module:
    """``torch.nn.modules.loss.MSELoss`` -> ``MSELoss()``; only torch.nn classes, never arbitrary code."""
    module_name, _, class_name = path.rpartition(".")
    found = None
    if path.startswith("torch.nn."):
        try:
            found = getattr(importlib.import_module(module_name), class_name, None)
        except ImportError:
            found = None
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise SentforgeError(
            f"`loss.params.{key}: {path}` is not a torch.nn module class. Use e.g. torch.nn.modules.loss.MSELoss "
            "or torch.nn.Identity."
        )
    return found()
