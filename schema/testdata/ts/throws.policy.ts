throw new Error("policy generator failed: no subnets file");
