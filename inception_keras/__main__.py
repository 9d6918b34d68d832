import sys

from inception_keras.cli import main

sys.exit(main())
