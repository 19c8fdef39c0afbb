"""`python -m orchestration`: the command line (orchestration.cli)."""

import sys

from ingest.installation_secrets import SecretsError

try:
    # Loading the command line loads the definitions, which read the installation's secrets: a
    # warehouse without its secrets file is refused there, said as a sentence, not a traceback.
    from orchestration.cli import main
except SecretsError as refused:
    print(f"gogaek: {refused}", file=sys.stderr)
    sys.exit(2)

sys.exit(main())
