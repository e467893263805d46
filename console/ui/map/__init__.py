"""The live map: a Leaflet page built once with folium, updated in place over a bridge.

``view.MapView`` is the widget; ``env.prepare_webengine_env`` must run before the
QApplication exists; ``bench.bench_map_update`` measures update latency against a rebuild.
"""
