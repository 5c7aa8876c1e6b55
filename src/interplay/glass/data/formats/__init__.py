"""Readers of the real KA dataset formats (Shiba/BOTAN, Bapst et al., GlassBench)."""
