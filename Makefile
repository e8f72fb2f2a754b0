# The two commands of README.md. Each installs what is missing, then does its job;
# both are safe to run again. `make package` builds the release .deb (README, Install).
.PHONY: run test package
run:
	@bash scripts/run.sh
test:
	@bash scripts/test.sh
package:
	@bash scripts/package.sh
