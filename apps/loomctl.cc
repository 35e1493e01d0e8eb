// loomctl: the operator CLI for loom's REST API (docs/loomctl.md).
//
//   loomctl bridge create --name net-a --tenant-id 7e00...
//   loomctl port list --bridge-id net-a -o json
//   loomctl trace vm-a1 'tcp dst=10.0.1.11 dport=22'
//   loomctl export --tenant 7e00... > net.json && loomctl import net.json --tenant other

#include <string>
#include <vector>

#include "cli/loomctl.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return loom::cli::runLoomctl(std::move(args), loom::cli::Environment{});
}
