"""FrozenGeoJson and copy_map: a boundary layer rendered once, its copies sharing the work.

The explorer's base map is cached and copied for every run; these tests pin that a
copy renders the same page as folium would, without redoing folium's work, and that
text in the data is never evaluated as a template.
"""

from __future__ import annotations

import re

import folium
import pytest
from shapely.geometry import box, mapping

from geo.maps import layers


def _collection(*names: str) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f"E540000{i:02d}", "name": name},
                "geometry": mapping(box(-2.0 + i, 52.0, -1.5 + i, 52.5)),
            }
            for i, name in enumerate(names)
        ],
    }


def _map(layer_class, data: dict) -> folium.Map:
    m = folium.Map(location=[52.5, -1.5], zoom_start=6, tiles=None)
    group = folium.FeatureGroup(name="ICBs").add_to(m)
    layer_class(
        data,
        style_function=lambda feature: {"fillColor": "#440154", "weight": 1},
        highlight_function=lambda feature: {"weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["ICB"]),
        control=False,
    ).add_to(group)
    return m


def _page(m: folium.Map) -> str:
    """The rendered page with every element's random id replaced by its order of appearance."""
    html = m.get_root().render()
    ids: dict[str, str] = {}
    return re.sub(r"[0-9a-f]{32}", lambda hit: ids.setdefault(hit.group(), f"id{len(ids)}"), html)


def test_a_frozen_layer_renders_the_page_folium_renders():
    data = _collection("NHS North ICB", "NHS South ICB")
    assert _page(_map(layers.FrozenGeoJson, data)) == _page(_map(folium.GeoJson, data))


def test_copies_share_the_data_and_render_without_folium_s_template(monkeypatch):
    built = layers.render_once(_map(layers.FrozenGeoJson, _collection("NHS North ICB")))
    (original,) = layers._frozen_layers(built)
    first = _page(layers.copy_map(built))  # the kept map itself is never rendered

    def no_template_again(*args, **kwargs):
        raise AssertionError("the copy rendered folium's GeoJson template again")

    monkeypatch.setattr(folium.GeoJson._template.module, "script", no_template_again)
    copy_one, copy_two = layers.copy_map(built), layers.copy_map(built)
    (layer_one,) = layers._frozen_layers(copy_one)
    assert layer_one is not original
    assert layer_one.data is original.data  # shared, not copied
    assert layer_one.style_map is original.style_map
    assert _page(copy_one) == first
    assert _page(copy_two) == first
    # streamlit-folium's own pass over each element's script macro gets the same text
    assert layer_one._template.module.script(layer_one, {}) == original.rendered_script


def test_the_bounds_are_measured_once_and_handed_out_as_copies(monkeypatch):
    built = layers.render_once(_map(layers.FrozenGeoJson, _collection("A", "B", "C")))
    (layer,) = layers._frozen_layers(built)
    bounds = layer.get_bounds()
    assert bounds == [[52.0, -2.0], [52.5, 0.5]]

    def no_measuring(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(folium.GeoJson, "_get_self_bounds", no_measuring)
    copied = layers.copy_map(built)
    (copied_layer,) = layers._frozen_layers(copied)
    assert copied_layer.get_bounds() == bounds
    copied_layer.get_bounds()[0][0] = 0.0  # a caller changing its answer changes nothing kept
    assert layer.get_bounds() == bounds


@pytest.mark.parametrize("name", ["{{ 7 * 7 }}", "{% if true %}x{% endif %}"])
def test_template_syntax_in_the_data_reaches_the_page_as_text(name):
    """folium wraps a rendered script in a new Jinja template; a name holding template
    syntax would be evaluated there. The frozen layer's script is never parsed again."""
    built = layers.render_once(_map(layers.FrozenGeoJson, _collection(name)))
    for m in (built, layers.copy_map(built)):
        assert name in m.get_root().render()
