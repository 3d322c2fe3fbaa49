"""The scorecard in a real browser (Debian chromium via Playwright), from file:// with no network."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import results_fixture as rf
from soilbench.report import build_report

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("browser")
    results = rf.make_results(work / "run")
    build_report(results, work / "site", progress=False)
    return work / "site"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


class Visit:
    """A page opened with every request, console message, page error and dialog recorded."""

    def __init__(self, browser, url: str, viewport: dict[str, int] | None = None):
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.goto(url, wait_until="load")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


def _column(page, table: str, col: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr", f"rows => rows.map(r => r.children[{col}].getAttribute('data-v') || r.children[{col}].textContent.trim())")


def test_every_page_loads_offline_with_images_and_links(site, browser):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 2 + len(rf.CONFRONTATIONS)
    for path in pages:
        visit = Visit(browser, path.as_uri())
        try:
            page = visit.page
            assert visit.console_errors == [], f"{path}: {visit.console_errors}"
            assert visit.dialogs == []
            outside = [u for u in visit.requests if not u.startswith("file://")]
            assert outside == [], f"{path} made network requests: {outside}"
            broken = page.eval_on_selector_all("img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
            assert broken == [], f"{path}: images that did not load: {broken}"
            for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
                url = urlparse(href)
                assert url.scheme == "file", f"{path}: non-local link {href}"
                target = Path(unquote(url.path))
                assert target.is_file(), f"{path}: link to missing {target}"
                assert target.resolve().is_relative_to(site.resolve())
                if url.fragment:  # in-page anchors must exist on the target page
                    assert f'id="{url.fragment}"' in target.read_text(encoding="utf-8"), href
        finally:
            visit.close()


def test_scoreboard_sorts_and_hostile_name_is_inert(site, browser, tmp_path):
    before = set(site.parent.iterdir())
    visit = Visit(browser, (site / "index.html").as_uri(), viewport={"width": 1100, "height": 760})
    try:
        page = visit.page
        page.wait_for_timeout(200)
        assert visit.dialogs == [], "a model name ran as script"
        text = page.inner_text("#scoreboard")
        assert rf.HOSTILE in text and rf.TRAVERSAL in text, "hostile names are shown literally"
        assert page.eval_on_selector_all("#scoreboard script", "s => s.length") == 0
        assert "Synthetic run." in page.inner_text(".banner")
        assert "failed" in text and rf.FAILED[2] in page.inner_text(".failures")

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "scoreboard.png"), full_page=True)

        page.click("#scoreboard thead th[data-col='1']")  # Overall: best first
        overall = [float(v) for v in _column(page, "scoreboard", 1)]
        assert overall == sorted(overall, reverse=True) and len(overall) == len(rf.MODELS)
        page.click("#scoreboard thead th[data-col='1']")
        assert [float(v) for v in _column(page, "scoreboard", 1)] == sorted(overall)
        page.click("#scoreboard thead th[data-col='0']")  # model names, A→Z
        names = _column(page, "scoreboard", 0)
        assert names == sorted(names, key=str.lower)
        assert page.get_attribute("#scoreboard thead th[data-col='0']", "aria-sort") == "ascending"
    finally:
        visit.close()
    assert set(site.parent.iterdir()) == before, "the browser session wrote nothing beside the site"
    assert not (site.parent / "x").exists() and not (site.parent.parent / "x").exists()


def test_scalar_table_sorts_numerically(site, browser):
    visit = Visit(browser, (site / "c" / "rh-global-totals" / "index.html").as_uri())
    try:
        page = visit.page
        value_col = 8
        page.click(f"#scalars thead th[data-col='{value_col}']")
        values = [float(v) for v in _column(page, "scalars", value_col)]
        assert values == sorted(values, reverse=True) and len(values) > 50
        assert visit.console_errors == []
    finally:
        visit.close()


def _many_confrontations(root: Path, n_confrontations: int) -> Path:
    """A run with ``n_confrontations`` realistic names (three groups) and the fixture's models."""
    import json

    from soilbench import atomic
    from soilbench.results import ConfrontationResult, model_slug, scalar_rows

    bases = ["rh-global-totals", "rs-global-totals", "rh-zonal-means", "rh-taylor", "rh-srdb-annual",
             "rs-srdb-annual", "rh-daily-mgrhd", "soil-turnover"]
    names = [bases[i % len(bases)] + ("" if i < len(bases) else f"-v{i // len(bases) + 1}")
             for i in range(n_confrontations)]
    rng = __import__("numpy").random.default_rng(3)
    for name in names:
        group = "τ" if "turnover" in name else "SR" if name.startswith("rs") else "Rh"
        for model in rf.MODELS:
            rows = [{"region": "global", "analysis": "overall", "name": "overall score", "type": "score",
                     "units": "1", "value": float(rng.uniform(0.2, 0.9))}]
            meta = {"model": model, "confrontation": name, "kind": "test", "group": group, "weight": 1.0}
            ConfrontationResult(scalar_rows(rows, model=model, confrontation=name, reference="r")).save(
                root / name / model_slug(model), meta)
    atomic.write_text(root / "run.json", json.dumps({"models": [{"name": m} for m in rf.MODELS]}))
    return root


@pytest.mark.parametrize("n_confrontations", [8, 12])
def test_scoreboard_is_usable_at_1200px(browser, tmp_path, n_confrontations):
    """8 confrontations fit a 1200-px window; more scroll sideways inside the table's own
    container with the model column staying in view. No column is ever cut off unreachably."""
    results = _many_confrontations(tmp_path / "run", n_confrontations)
    index = build_report(results, tmp_path / "site", progress=False)
    visit = Visit(browser, index.as_uri(), viewport={"width": 1200, "height": 800})
    try:
        page = visit.page
        assert visit.console_errors == []
        page_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert page_width <= 1200, "the page itself never scrolls sideways"
        wrap = ".scoreboard-wrap"
        fits = page.evaluate(f"() => {{ const w = document.querySelector('{wrap}'); return w.scrollWidth <= w.clientWidth; }}")
        if n_confrontations == 8:
            assert fits, "the default benchmark's scoreboard fits 1200 px without scrolling"
        # scrolled fully right: the last column is entirely visible and the model names still are
        page.evaluate(f"() => {{ const w = document.querySelector('{wrap}'); w.scrollLeft = w.scrollWidth; }}")
        box = page.evaluate(f"""() => {{
            const w = document.querySelector('{wrap}').getBoundingClientRect();
            const head = [...document.querySelectorAll('#scoreboard thead tr:last-child th')].pop().getBoundingClientRect();
            const model = document.querySelector('#scoreboard tbody th.model-col').getBoundingClientRect();
            return {{wrapLeft: w.left, wrapRight: w.right, lastRight: head.right, lastLeft: head.left,
                     modelLeft: model.left, modelRight: model.right}};
        }}""")
        assert box["lastRight"] <= box["wrapRight"] + 1 and box["lastLeft"] >= box["modelRight"] - 1
        assert abs(box["modelLeft"] - box["wrapLeft"]) <= 1, "the model column stays in view (sticky)"
        if n_confrontations == 8:
            ARTIFACTS.mkdir(exist_ok=True)
            page.evaluate(f"() => {{ document.querySelector('{wrap}').scrollLeft = 0; }}")
            page.screenshot(path=str(ARTIFACTS / "scoreboard-1200.png"), full_page=True)
        headers = page.eval_on_selector_all("#scoreboard thead tr:last-child th a", "as => as.map(a => a.textContent)")
        assert len(headers) == n_confrontations
    finally:
        visit.close()
