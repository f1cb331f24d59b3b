#!/usr/bin/env node
'use strict';
// The keyward Terraform/OpenTofu provider: Terraform or OpenTofu starts this, never a person.
require('../dist/provider/terraform/plugin.js')
  .servePlugin()
  .catch((error) => {
    process.stderr.write(`terraform-provider-keyward: ${error?.message ? error.message : String(error)}\n`);
    process.exit(1);
  });
