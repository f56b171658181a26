"""An entry's badges other than the venue's are its tags, and the categoriser reads them:
in a list that files papers on text and image models apart, and tells them apart by a badge
more than by the title, a new paper's badge says where it goes."""

from dataclasses import replace

from secml_papers.corpus.parse import parse_list
from secml_papers.index.build import paper_text
from secml_papers.index.categorize.categorizer import Categorizer, entry_text
from secml_papers.index.categorize.placement import place_added

TEXT = ["Extracting training data", "Stealing prompts", "Inverting embeddings", "Leaking inputs"]
IMAGE = ["Recovering samples", "Copying styles", "Tracing memorised faces", "Probing caches"]
NEW = (
    "New privacy attacks in generative models"  # as close to one section's titles as to the other's
)


def _item(title: str, tag: str, n: int) -> str:
    return (
        f"- [2025/0{1 + n % 9}] **[{title}](https://arxiv.org/abs/2501.{n:05d})** "
        f"![{tag}](https://img.shields.io/badge/{tag}-589cf4)"
    )


def _list() -> str:
    text = ["# Privacy", "", "## Text Models", ""]
    text += [_item(f"{t} in generative models", "LLM", i) for i, t in enumerate(TEXT * 2)]
    text += ["", "## Image Models", ""]
    text += [
        _item(f"{t} in generative models", "Diffusion", 50 + i) for i, t in enumerate(IMAGE * 2)
    ]
    return "\n".join(text) + "\n"


def test_tags_are_read_with_the_title_and_not_embedded() -> None:
    parsed = parse_list(_list())
    paper = parsed.papers[0]
    assert paper.tags == ("LLM",)
    assert entry_text(paper) == "Extracting training data in generative models LLM"
    assert paper_text(paper) == paper.title  # the embedding reads what it read before


def test_a_new_papers_badge_places_it(fake_embedder) -> None:
    base = parse_list(_list())
    vectors = fake_embedder.embed([paper_text(p) for p in base.papers])
    head = parse_list(_list() + _item(NEW, "Diffusion", 99))
    added = [p for p in head.papers if p.title == NEW]
    [placed] = place_added(base.papers, vectors, head.sections, added, fake_embedder)
    assert placed.suggestions[0].section == ("Image Models",)
    # the same paper with the other badge goes to the other section: the badge decides
    [placed] = place_added(
        base.papers, vectors, head.sections, [replace(added[0], tags=("LLM",))], fake_embedder
    )
    assert placed.suggestions[0].section == ("Text Models",)


def test_without_tags_the_titles_alone_cannot_tell(fake_embedder) -> None:
    base = parse_list(_list())
    vectors = fake_embedder.embed([paper_text(p) for p in base.papers])
    titles = Categorizer(
        base.papers, vectors, base.sections, fake_embedder, texts=[p.title for p in base.papers]
    )
    vector = fake_embedder.embed([NEW])[0]
    found = titles.categorize_vector(vector, NEW)
    tagged = Categorizer(base.papers, vectors, base.sections, fake_embedder)
    with_tag = tagged.categorize_vector(vector, f"{NEW} Diffusion")
    image = ("Image Models",)
    confidence = {s.section: s.confidence for s in found.suggestions}[image]
    assert {s.section: s.confidence for s in with_tag.suggestions}[image] > confidence + 0.3


def test_categorize_by_hand_reads_tags_as_the_entries_badges(fake_embedder) -> None:
    base = parse_list(_list())
    vectors = fake_embedder.embed([paper_text(p) for p in base.papers])
    cat = Categorizer(base.papers, vectors, base.sections, fake_embedder)
    for tag, section in (("Diffusion", "Image Models"), ("LLM", "Text Models")):
        assert cat.categorize(NEW, tags=[tag]).suggestions[0].section == (section,)


def test_a_changed_badge_is_an_edit() -> None:
    from secml_papers.corpus.diff import diff_lists

    base = _list()
    head = base.replace("![LLM](https://img.shields.io/badge/LLM-589cf4)", "![VLM](x)", 1)
    found = diff_lists(parse_list(base), parse_list(head))
    assert not found.added and not found.removed
    assert [(p.head.tags, p.fields) for p in found.edited] == [(("VLM",), ("tags",))]
