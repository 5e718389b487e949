# Written by setup.py from git describe. Do not edit.
__version__ = "2.0.1"
__commit__ = "4f1c2ab"
