# Shortcuts for the two set-up commands of the README (which need only bash and Python).
.PHONY: run test
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
