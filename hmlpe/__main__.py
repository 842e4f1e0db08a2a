import sys

from hmlpe.cli import main

sys.exit(main())
