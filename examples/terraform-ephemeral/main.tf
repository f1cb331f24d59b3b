# A key that never touches state: the provider makes it as ephemeral key material,
# keyward_api_key takes it through the write-only key_wo, and a provisioner hands it to the
# consumer. Change rotation_date to rotate. OpenTofu or Terraform >= 1.11.
terraform {
  required_version = ">= 1.11.0"
  required_providers {
    keyward = {
      source = "registry.terraform.io/keyward/keyward"
    }
  }
}

# url and root_key, or KEYWARD_URL and KEYWARD_ROOT_KEY in the environment.
provider "keyward" {}

variable "rotation_date" {
  description = "Changing this date rotates the key (the line to edit in a GitOps repo)"
  type        = string
  default     = "2026-11-01"
}

variable "key_file" {
  description = "Where the CRM integration reads its key"
  type        = string
  default     = "./secrets/crm.key"
}

locals {
  # The one version both ends follow: a new date replaces the key, and with it the consumer.
  key_version = "rotated-${var.rotation_date}"
}

# A fresh key each time the engine opens it (once per plan, once per apply), made by the
# provider with no server call. Only an apply that creates or replaces the key puts it into use.
ephemeral "keyward_key_material" "crm" {
  environment = "live"
}

resource "keyward_api_key" "crm" {
  name         = "crm sync"
  description  = "CRM nightly sync"
  scopes       = ["contacts:read"]
  ip_allowlist = ["127.0.0.0/8", "203.0.113.0/24"]
  grace_period = "30s"

  # Write-only: sent to keyward when the key is created or replaced, never stored.
  key_wo         = ephemeral.keyward_key_material.crm.key
  key_wo_version = local.key_version

  # Terraform's default (destroy, then create) would leave the consumer without a working key.
  lifecycle {
    create_before_destroy = true
  }
}

# The consumer: receives the same ephemeral key (the engine suppresses the provisioner's output)
# and writes it atomically where the integration reads it. Replaced with the key: after the new
# key exists, before the old one is retired.
resource "terraform_data" "crm_consumer" {
  input = keyward_api_key.crm.id

  provisioner "local-exec" {
    command = "mkdir -p \"$(dirname \"$KEY_FILE\")\" && umask 077 && printf '%s' \"$KEY\" > \"$KEY_FILE.tmp\" && mv \"$KEY_FILE.tmp\" \"$KEY_FILE\""
    environment = {
      KEY      = ephemeral.keyward_key_material.crm.key
      KEY_FILE = var.key_file
    }
  }

  lifecycle {
    replace_triggered_by = [keyward_api_key.crm.id]
  }
}

output "key_id" {
  value = keyward_api_key.crm.id
}
