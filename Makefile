# The two commands of README.md. Each installs what is missing, then does its job;
# both are safe to run again.
.PHONY: run test
run:
	@bash scripts/run.sh
test:
	@bash scripts/test.sh
