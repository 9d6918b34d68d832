import sys

from deepdream.cli import main

sys.exit(main())
