import sys

from salesforce_connector.emulator.cli import main

sys.exit(main())
