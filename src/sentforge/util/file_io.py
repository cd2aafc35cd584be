"""Files of a model, local or on the Hugging Face Hub, as ``sentence_transformers.util.file_io``."""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from pathlib import Path, PureWindowsPath

from tqdm.autonotebook import tqdm

from ..errors import SentforgeError

logger = logging.getLogger(__name__)

__all__ = ["disabled_tqdm", "http_get", "is_sentence_transformer_model", "load_dir_path", "load_file_path"]


class disabled_tqdm(tqdm):
    """A tqdm that never shows (for hub downloads that take a ``tqdm_class``)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["disable"] = True
        super().__init__(*args, **kwargs)

    def __delattr__(self, attr: str) -> None:
        try:
            super().__delattr__(attr)
        except AttributeError:
            if attr != "_lock":
                raise


def _check_relative(path: str | Path) -> None:
    if not isinstance(path, (str, Path)):
        raise ValueError(f"Invalid model path {path!r}: expected a relative path.")
    windows_path = PureWindowsPath(path)
    if windows_path.anchor or ".." in windows_path.parts or "\0" in str(path):
        raise ValueError(f"Invalid model path {str(path)!r}: expected a relative path without '..' components.")


def is_sentence_transformer_model(
    model_name_or_path: str,
    token: bool | str | None = None,
    cache_folder: str | None = None,
    revision: str | None = None,
    local_files_only: bool = False,
) -> bool:
    """Whether the folder or hub repository holds a sentence-transformers model (a ``modules.json``)."""
    found = load_file_path(
        model_name_or_path, "modules.json", token=token, cache_folder=cache_folder, revision=revision,
        local_files_only=local_files_only,
    )
    return bool(found)


def load_file_path(
    model_name_or_path: str,
    filename: str | Path,
    subfolder: str = "",
    token: bool | str | None = None,
    cache_folder: str | None = None,
    revision: str | None = None,
    local_files_only: bool = False,
) -> str | None:
    """Local path of one file of the model (downloaded from the hub if needed); None if it has none."""
    _check_relative(subfolder)
    _check_relative(filename)
    file_path = Path(model_name_or_path, subfolder, filename)
    if file_path.exists():
        return str(file_path)
    if Path(model_name_or_path).is_dir():  # a local model without that file
        return None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import EntryNotFoundError, HFValidationError, LocalEntryNotFoundError

    remote = Path(subfolder, filename)
    try:
        return hf_hub_download(
            model_name_or_path, filename=remote.name, subfolder=remote.parent.as_posix(), revision=revision,
            library_name="sentence-transformers", token=token, cache_dir=cache_folder,
            local_files_only=local_files_only,
        )
    except (EntryNotFoundError, HFValidationError, LocalEntryNotFoundError) as exc:
        logger.debug(f"Could not load {filename!r} from {model_name_or_path!r}: {exc}")
        return None


def load_dir_path(
    model_name_or_path: str,
    subfolder: str,
    token: bool | str | None = None,
    cache_folder: str | None = None,
    revision: str | None = None,
    local_files_only: bool = False,
) -> str | None:
    """Local path of a subfolder of the model (downloaded from the hub if needed); None if it has none."""
    _check_relative(subfolder)
    subfolder = subfolder.as_posix() if isinstance(subfolder, Path) else subfolder
    dir_path = Path(model_name_or_path, subfolder)
    if dir_path.exists():
        return str(dir_path)
    if Path(model_name_or_path).is_dir():
        return None
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import HFValidationError, LocalEntryNotFoundError

    wants_subfolder = subfolder not in ("", ".")
    try:
        repo_path = snapshot_download(
            repo_id=model_name_or_path, revision=revision,
            allow_patterns=f"{subfolder}/**" if wants_subfolder else None, library_name="sentence-transformers",
            token=token, cache_dir=cache_folder, local_files_only=local_files_only, tqdm_class=disabled_tqdm,
        )
    except (HFValidationError, LocalEntryNotFoundError) as exc:
        logger.debug(f"Could not load subfolder {subfolder!r} from {model_name_or_path!r}: {exc}")
        return None
    if wants_subfolder and not Path(repo_path, subfolder).is_dir():
        raise OSError(
            f"Could not download {subfolder!r} of {model_name_or_path!r} from the Hub, "
            "and the local cache does not contain it."
        )
    return str(Path(repo_path, subfolder))


def http_get(url: str, path: str) -> None:
    """Download ``url`` to ``path`` (through ``path + "_part"``, so a failed download leaves no file)."""
    if os.path.dirname(path) != "":
        os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + "_part"
    try:
        response = urllib.request.urlopen(url)  # noqa: S310 - the caller chose the URL
    except (urllib.error.URLError, OSError) as error:
        raise SentforgeError(
            f"Could not download {url}: {getattr(error, 'reason', error)}. Check the URL and your network "
            "connection (this machine may be offline); or download the file yourself and pass its local path."
        ) from error
    with response:
        total = response.headers.get("Content-Length")
        progress = tqdm(unit="B", total=int(total) if total else None, unit_scale=True, leave=False,
                        desc=f"Downloading {os.path.basename(path)}")
        try:
            with open(partial, "wb") as handle:
                while chunk := response.read(1024 * 64):
                    progress.update(len(chunk))
                    handle.write(chunk)
            os.replace(partial, path)
        except Exception:
            if os.path.exists(partial):
                os.remove(partial)
            raise
        finally:
            progress.close()
