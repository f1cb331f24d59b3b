# A CRM integration's API key, rotated with zero downtime: bump rotate_after and apply.
# Install the provider first: `keyward terraform install` (see README.md here).
terraform {
  required_providers {
    keyward = {
      source = "registry.terraform.io/keyward/keyward"
    }
  }
}

# url and root_key, or KEYWARD_URL and KEYWARD_ROOT_KEY in the environment.
provider "keyward" {}

variable "rotate_after" {
  description = "Changing this date rotates the key (the line to edit in a GitOps repo)"
  type        = string
  default     = "2026-11-01"
}

variable "scopes" {
  type    = list(string)
  default = ["contacts:read"]
}

variable "key_file" {
  description = "Where the CRM integration reads its key"
  type        = string
  default     = "./secrets/crm.key"
}

resource "keyward_api_key" "crm" {
  name         = "crm sync"
  description  = "CRM nightly sync"
  scopes       = var.scopes
  ip_allowlist = ["127.0.0.0/8", "203.0.113.0/24"]
  metadata     = { team = "crm", tier = 2 }
  max_age_days = 90
  rotate_after = var.rotate_after
  grace_period = "30s"

  # A provider cannot ask for this, and Terraform's default (destroy, then create) would leave the
  # consumer without a working key in between.
  lifecycle {
    create_before_destroy = true
  }
}

# The consumer: writes the key where the integration reads it, atomically, whenever the key is
# replaced. It runs after the new key exists and before the old one is retired.
resource "terraform_data" "crm_consumer" {
  input = keyward_api_key.crm.id

  provisioner "local-exec" {
    command = "mkdir -p \"$(dirname \"$KEY_FILE\")\" && umask 077 && printf '%s' \"$KEY\" > \"$KEY_FILE.tmp\" && mv \"$KEY_FILE.tmp\" \"$KEY_FILE\""
    environment = {
      KEY      = keyward_api_key.crm.key
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

output "key_start" {
  value = keyward_api_key.crm.start
}
