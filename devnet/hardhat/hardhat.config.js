// Hardhat's in-process node for devnet/tests/test_hardhat_node.py (no compilation: the stub
// contracts are deployed from ogpu-devnet's committed artifacts with `ogpu-devnet deploy`).
module.exports = {
  networks: {
    hardhat: {
      hardfork: "cancun",
      // ogpu-devnet serve --backend hardhat sets 31071 (the devnet's); tests use the default
      chainId: Number(process.env.OGPU_HARDHAT_CHAIN_ID || 31337),
      allowUnlimitedContractSize: true,
    },
  },
};
