"""Reading the list and the abstracts cache: the only module in ``corpus`` on the disk."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from secml_papers.corpus.errors import ListError

BUNDLED_LIST = "awesome-secml-papers.md"
MAX_LIST_BYTES = 20_000_000


@dataclass(frozen=True)
class ListSource:
    """Where a list came from, for messages and for naming its index directory."""

    text: str
    name: str
    location: str


def read_list(source: str | None) -> ListSource:
    """The bundled list when ``source`` is None, else the Markdown file at ``source``."""
    if source is None:
        text = (
            resources.files("secml_papers.corpus")
            .joinpath("data", BUNDLED_LIST)
            .read_text(encoding="utf-8")
        )
        return ListSource(text, BUNDLED_LIST, f"bundled:{BUNDLED_LIST}")
    if source.startswith(("http://", "https://")):
        raise ListError(
            f"lists by URL are not supported yet ({source}); download it and pass the file"
        )
    path = Path(source).expanduser()
    if not path.exists():
        raise ListError(f"the list file {source} does not exist")
    if not path.is_file():
        raise ListError(f"the list {source} is not a file")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ListError(f"the list file {source} cannot be read ({err.strerror})") from err
    if len(data) > MAX_LIST_BYTES:
        raise ListError(f"the list file {source} is larger than {MAX_LIST_BYTES // 1_000_000} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ListError(f"the list file {source} is not UTF-8 text") from err
    return ListSource(text, path.name, str(path.resolve()))


def read_abstracts(path: Path) -> tuple[list[dict], list[str]]:
    """Records of a JSON Lines abstracts cache, and a message per line that was skipped.

    A torn last line (a crash mid-append) is skipped with a message, never fatal.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as err:
        raise ListError(f"the abstracts file {path} does not exist") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ListError(f"the abstracts file {path} cannot be read ({err})") from err
    records, skipped = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            skipped.append(f"{path.name}:{number}: not valid JSON, skipped")
            continue
        if isinstance(record, dict) and isinstance(record.get("abstract"), str):
            records.append(record)
        else:
            skipped.append(f"{path.name}:{number}: no 'abstract' string, skipped")
    return records, skipped
