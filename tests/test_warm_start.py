"""Startup does the slow first-time work, so the first votes after a deploy are not held up by it:
done in the first render instead, compiling the templates and reading Babel's number formats took
about 95 ms of the transaction those votes waited on."""
from __future__ import annotations

from poll_bot import cards, i18n


async def test_startup_compiles_every_template_and_reads_every_languages_number_formats(make_bot):
    cards._environment.cache_clear()
    i18n._format_number.cache_clear()

    await make_bot()

    environment = cards._environment()
    compiled = {template.name for template in environment.cache.values()}
    assert compiled == set(environment.list_templates(extensions=["j2"]))
    hits = i18n._format_number.cache_info().hits
    for language in i18n.CATALOGS:
        with i18n.using(language):
            i18n.number(1000)
    assert i18n._format_number.cache_info().hits == hits + len(i18n.CATALOGS), "each was formatted at startup"
