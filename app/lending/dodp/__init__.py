"""DAISY Online Delivery Protocol (v1 and v2.0.2) for hardware talking-book players: see views.py."""
