"""Say which seeds the randomized differential test drew, pass or fail.

Under FSTGIS_HEAVY=1 the seeds are fresh each run: a passing run's seeds are the record of what
was explored, and a failure's replay command needs them.
"""

import sys


def pytest_terminal_summary(terminalreporter):
    module = next(
        (m for name, m in sys.modules.items() if name.rpartition(".")[2] == "test_random_files"),
        None,
    )
    seeds = getattr(module, "SEEDS", None)
    if seeds:
        listed = ",".join(str(s) for s in seeds)
        terminalreporter.write_line(
            f"random IODA files: seeds {listed} ({module.CASES} files of each kind per seed); "
            f"replay with {'FSTGIS_HEAVY=1 ' if module.HEAVY else ''}FSTGIS_IODA_SEED={listed} "
            "tests/run.sh ioda -k test_random"
        )
