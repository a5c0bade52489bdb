// Hardhat's in-process node for devnet/tests/test_hardhat_node.py (no compilation: the stub
// contracts are deployed from ogpu-devnet's committed artifacts with `ogpu-devnet deploy`).
module.exports = {
  networks: {
    hardhat: {
      hardfork: "cancun",
      chainId: 31337,
      allowUnlimitedContractSize: true,
    },
  },
};
