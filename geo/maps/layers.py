"""folium elements for our own map code (geo/maps/static/ics_map.js): library, site canvas, legend.

Each element renders only into its Jinja `script` macro, so streamlit-folium can
send a FeatureGroup holding them as `feature_group_to_add` and swap it without
remounting the map. Legends belong to a FeatureGroup and follow it on and off the
map (the layer control, or streamlit-folium replacing the group).

branca's MacroElement.render wraps each rendered script in a new Jinja Template,
which costs 0.4 s of lexing for a 4 MB payload and would let `{{ … }}` in data be
evaluated; our elements add their rendered script to the page as plain text.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import folium
from branca.element import Element, MacroElement
from folium.features import GeoJsonStyleMapper
from folium.utilities import get_obj_in_upper_tree
from jinja2 import Template

from geo.maps.payload import script_json

STATIC_DIR = Path(__file__).resolve().parent / "static"


@functools.cache
def library_code() -> str:
    """Our map JavaScript with its CSS built in, defining `window.IcsMap` once per page."""
    css = (STATIC_DIR / "ics_map.css").read_text(encoding="utf-8")
    code = (STATIC_DIR / "ics_map.js").read_text(encoding="utf-8")
    return code.replace("__ICS_MAP_CSS__", script_json(css))


class _Text(Element):
    """Finished page text: rendered as it is, never parsed as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        """The text itself."""
        return self.text


class _ScriptElement(MacroElement):
    """A MacroElement whose rendered `script` macro reaches the page as plain text."""

    def render(self, **kwargs) -> None:
        """Add this element's script to the page's script section, untemplated."""
        script = self._template.module.__dict__["script"](self, kwargs)
        self.get_root().script.add_child(_Text(str(script)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class MapLibrary(_ScriptElement):
    """Defines `window.IcsMap` (skipped when already defined); add it before the others."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.code }}
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "IcsMapLibrary"
        self.code = library_code()


class SitesCanvas(_ScriptElement):
    """Draws a site payload (geo.maps.payload) on one canvas inside its parent FeatureGroup."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = IcsMap.sitesLayer(
            {{ this.payload_json }}, {{ this.options_json }}
        ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict, options: dict) -> None:
        super().__init__()
        self._name = "IcsSites"
        self.payload_json = script_json(payload)
        self.options_json = script_json(options)


class SitesFromUrl(_ScriptElement):
    """Draws the sites of a payload served at `url`, only those `mask` shows.

    The browser fetches and decodes each payload once per map frame (and keeps the
    response in its HTTP cache): a filter change sends only the mask. `url` is relative
    to the app's base path; the script resolves it from its frame's address.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = IcsMap.sitesFrom(
            {{ this.url_json }}, {{ this.mask_json }}, {{ this.options_json }}
        ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, mask: str, options: dict) -> None:
        super().__init__()
        self._name = "IcsSites"
        self.url_json = script_json(url)
        self.mask_json = script_json(mask)
        self.options_json = script_json(options)


class Legend(_ScriptElement):
    """A legend control shown while its parent FeatureGroup is on the map.

    `html` must already be safe: every user string in it escaped.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        IcsMap.legend({{ this._parent.get_name() }}, {{ this.html_json }}, {{ this.position_json }});
        {% endmacro %}
        """
    )

    def __init__(self, html: str, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "IcsLegend"
        self.html = html
        self.html_json = script_json(html)
        self.position_json = json.dumps(position)


class ViewInUrl(_ScriptElement):
    """Keeps the map's centre and zoom in the page's URL as the user pans, without a rerun.

    The map lives in streamlit-folium's iframe, served from the app's own origin, so it
    can rewrite the parent page's query string (`lat`, `lon`, `zoom`); a shared link then
    opens the same view. Streamlit's frontend sends the server its own copy of the query
    string, not the panned one, so each rerun (a click, a filter) writes back the view the
    app last knew: the script checks the URL again and puts the map's view back. Anything
    that blocks that (another origin) is ignored.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
          var page = window.parent.location.pathname;
          function keepView() {
            try {
              if (window.parent.location.pathname !== page) return;
              var url = new URL(window.parent.location.href), c = map.getCenter();
              var view = { lat: c.lat.toFixed(4), lon: c.lng.toFixed(4), zoom: String(map.getZoom()) };
              var stale = false;
              for (var name in view) {
                if (url.searchParams.get(name) !== view[name]) {
                  url.searchParams.set(name, view[name]);
                  stale = true;
                }
              }
              if (stale) window.parent.history.replaceState(window.parent.history.state, "", url.toString());
            } catch (e) { /* not allowed here: the URL keeps the last view the app set */ }
          }
          map.on("moveend", keepView);
          setInterval(keepView, 400);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "IcsViewInUrl"


# For streamlit-folium's own pass over each element's `script` macro: the text a
# FrozenGeoJson has already rendered; and nothing, while folium's render chain runs (the
# text is added as plain text afterwards, never parsed as a template).
_RENDERED_SCRIPT = Template(
    """
    {% macro script(this, kwargs) %}{{ this.rendered_script }}{% endmacro %}
    """
)
_NO_SCRIPT = Template(
    """
    {% macro script(this, kwargs) %}{% endmacro %}
    """
)


class FrozenGeoJson(folium.GeoJson):
    """A GeoJson layer whose script and bounds are worked out once and kept by its copies.

    folium renders a GeoJson's features to JSON and then parses that JSON text as a
    Jinja template on every render, and measures its bounds point by point; the
    explorer's map is cached and copied for every run (streamlit-folium renames what it
    is given), so for the ICB choropleth that was a third of each rerun. Its data never
    changes once built: the first render keeps the script (as plain text, never parsed)
    and `copy_map` lets copies share the data instead of copying it.
    """

    rendered_script: str | None = None
    _kept_bounds: list | None = None
    _in_folium_render = False

    @property
    def _template(self) -> Template:
        """folium's template until the first render; then one repeating its output."""
        if self._in_folium_render:
            return _NO_SCRIPT
        return folium.GeoJson._template if self.rendered_script is None else _RENDERED_SCRIPT

    def render(self, **kwargs) -> None:
        """folium's render (the addTo line, children such as tooltips) with the script
        worked out on the first render only and added as plain text, in its place."""
        if self.rendered_script is None:
            self._map_styles()
            self.rendered_script = str(folium.GeoJson._template.module.script(self, kwargs))
        self._in_folium_render = True
        try:
            folium.map.Layer.render(self, **kwargs)  # GeoJson.render's style maps are made
        finally:
            self._in_folium_render = False
        # the same name keeps the place folium's (empty) script took, before the children's
        self.get_root().script.add_child(_Text(self.rendered_script), name=self.get_name())

    def _map_styles(self) -> None:
        """What folium's GeoJson.render does before its template: the style and highlight
        maps the script embeds."""
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)
        if (self.style or self.highlight) and self.data["features"]:
            mapper = GeoJsonStyleMapper(self.data, self.feature_identifier, self)
            if self.style:
                self.style_map = mapper.get_style_map(self.style_function)
            if self.highlight:
                self.highlight_map = mapper.get_highlight_map(self.highlight_function)

    def _get_self_bounds(self) -> list:
        if self._kept_bounds is None:
            self._kept_bounds = super()._get_self_bounds()
        return copy.deepcopy(self._kept_bounds)


def render_once(m: folium.Map) -> folium.Map:
    """Work out `m`'s FrozenGeoJson scripts and bounds, on a scratch copy, before `m` is
    copied for runs; `m` itself stays unrendered (a rendered map rendered again would
    repeat folium's addTo lines)."""
    scratch = copy.deepcopy(m)
    scratch.get_root().render()
    for kept, rendered in zip(_frozen_layers(m), _frozen_layers(scratch), strict=True):
        kept.rendered_script = rendered.rendered_script
        for name in ("style_map", "highlight_map"):
            if hasattr(rendered, name):
                setattr(kept, name, getattr(rendered, name))
        kept.get_bounds()
    return m


def copy_map(m: folium.Map) -> folium.Map:
    """A deep copy of `m` for one run; its rendered FrozenGeoJson layers share their data,
    style maps and script with `m` (none of which a render changes) instead of copying them."""
    memo: dict[int, object] = {}
    for element in _frozen_layers(m):
        if element.rendered_script is not None:
            for shared in (element.data, getattr(element, "style_map", None),
                           getattr(element, "highlight_map", None)):  # fmt: skip
                if shared is not None:
                    memo[id(shared)] = shared
    return copy.deepcopy(m, memo)


def _frozen_layers(element: Element):
    if isinstance(element, FrozenGeoJson):
        yield element
    for child in element._children.values():
        yield from _frozen_layers(child)
