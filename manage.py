#!/usr/bin/env python
"""Django's command-line entry point for Outflow."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.tracing import tracing_start

    tracing_start(service_name="outflow")
    execute_from_command_line(sys.argv)
