"""The machine and installed packages, as ``sentence_transformers.util.environment``."""

from __future__ import annotations

import importlib.util
import logging
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, metadata, version
from typing import Any

import torch


logger = logging.getLogger(__name__)

__all__ = [
    "check_package_availability",
    "check_version_requirements",
    "get_device_name",
    "is_accelerate_available",
    "is_datasets_available",
    "is_dist_initialized",
    "is_training_available",
]


def is_dist_initialized() -> bool:
    """Whether a torch.distributed process group is up."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def get_device_name() -> str:
    """The best accelerator here: ``cuda:<local rank>``, ``mps``, ``npu``, ``xpu``, ``hpu``, ``neuron`` or ``cpu``."""
    if torch.cuda.is_available():
        if "LOCAL_RANK" in os.environ:
            local_rank = int(os.environ["LOCAL_RANK"])
        elif is_dist_initialized() and torch.cuda.device_count() > torch.distributed.get_rank():
            local_rank = torch.distributed.get_rank()
        else:
            local_rank = 0
        return f"cuda:{local_rank}"
    if torch.backends.mps.is_available():
        return "mps"
    from transformers import is_torch_npu_available

    if is_torch_npu_available():
        return "npu"
    if hasattr(torch, "xpu") and torch.xpu.is_available():
        return "xpu"
    if importlib.util.find_spec("habana_frameworks") is not None:
        import habana_frameworks.torch.hpu as hthpu

        if hthpu.is_available():
            return "hpu"
    if hasattr(torch, "neuron") and torch.neuron.is_available():
        return f"neuron:{int(os.environ['LOCAL_RANK'])}" if "LOCAL_RANK" in os.environ else "neuron"
    return "cpu"


def check_package_availability(package_name: str, owner: str) -> bool:
    """Whether ``package_name`` is installed and is the one published by ``owner`` (by its home page)."""
    try:
        meta = metadata(package_name)
    except PackageNotFoundError:
        return False
    home_page = meta["Home-page"]
    return meta["Name"] == package_name and home_page is not None and owner in home_page


def is_accelerate_available() -> bool:
    return check_package_availability("accelerate", "huggingface")


def is_datasets_available() -> bool:
    return check_package_availability("datasets", "huggingface")


def is_training_available() -> bool:
    """Whether the packages training needs (accelerate, datasets) are installed."""
    return is_accelerate_available() and is_datasets_available()


def _installed_version(package_name: str) -> str | None:
    if package_name == "python":
        return platform.python_version()
    module_version = getattr(sys.modules.get(package_name.replace("-", "_")), "__version__", None)
    if isinstance(module_version, str):
        return module_version
    try:
        return version(package_name)
    except PackageNotFoundError:
        return None


def check_version_requirements(requirements: dict[str, Any] | None, source: str | None = None) -> None:
    """Raise ImportError listing each unmet ``{package: specifier}`` (or ``{"specifier", "reason"}``)."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    if not requirements:
        return
    if not isinstance(requirements, dict):
        logger.warning(f"Ignoring the `requirements` of {source!r}: expected a dictionary of version specifiers.")
        return
    unmet: list[str] = []
    install_specs: list[str] = []
    for package_name, requirement in requirements.items():
        package_name = {"pytorch": "torch"}.get(package_name, package_name)
        specifier = requirement.get("specifier", "") if isinstance(requirement, dict) else requirement
        reason = requirement.get("reason", "") if isinstance(requirement, dict) else ""
        if not isinstance(specifier, str):
            logger.warning(
                f"Could not verify the {specifier!r} requirement of {source!r}: expected a version specifier string."
            )
            continue
        installed = _installed_version(package_name)
        try:
            if installed is not None and SpecifierSet(specifier, prereleases=True).contains(Version(installed)):
                continue
        except Exception as e:  # noqa: BLE001 - an unparsable specifier or version warns instead
            logger.warning(f"Could not verify the {specifier!r} requirement of {source!r}: {e}")
            continue
        found = f"{package_name}=={installed} is installed" if installed else "it is not installed"
        unmet.append(f"- {package_name}{specifier}, but {found}. {reason}".rstrip())
        if package_name != "python":
            install_specs.append(f'"{package_name}{specifier}"')
    if unmet:
        lines = [f"The model {source!r} requires:" if source else "This model requires:", *unmet]
        if install_specs:
            lines.append(f"Install compatible versions with:\n    pip install -U {' '.join(install_specs)}")
        raise ImportError("\n".join(lines))
