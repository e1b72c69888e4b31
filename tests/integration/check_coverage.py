"""Run after every integration test (CTest fixture cleanup): every operation of
openapi.yaml must have been exercised by some test, with a response that
validated against the spec. Prints the documented statuses never seen too."""
import sys

import oaschema

if __name__ == "__main__":
    print(oaschema.report_uncovered(responses=True))
    sys.exit(1 if oaschema.uncovered_operations() else 0)
