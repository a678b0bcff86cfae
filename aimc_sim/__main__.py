import sys

from aimc_sim.cli import main

sys.exit(main())
