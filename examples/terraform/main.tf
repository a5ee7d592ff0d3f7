# Two responders from one security project, in HCL: the Terraform module this package generates
# from the IntegrityResponder construct (../../terraform, README there).
#
# - "fleet": the project-scope root module, watching the fleet project from the security project.
#   Its VMs are suspended, not stopped, so that their memory stays for forensics.
# - "organization": the organization submodule, watching every project of an organization, with
#   sandboxes left out, in dry-run until its decisions look right. Terraform acts as a deployer
#   service account there, through aliased providers handed to the module.
#
# The module configures no provider: each call uses the providers of this configuration, the
# default ones unless `providers` names others.

terraform {
  required_version = ">= 1.2"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "6.50.0"
    }
    time = {
      source  = "hashicorp/time"
      version = "0.13.1"
    }
  }
}

variable "security_project" {
  type        = string
  description = "Project the responders are deployed in."
  default     = "sec-ops-1234"
}

variable "fleet_project" {
  type        = string
  description = "Project whose Shielded VMs the fleet responder watches."
  default     = "fleet-prod-1234"
}

variable "organization_id" {
  type        = string
  description = "Organization whose projects the organization responder watches."
  default     = "800000000001"
}

variable "notification_channels" {
  type        = list(string)
  description = "Notification channels the alert policies of both responders notify (a google_monitoring_notification_channel's id works too)."
  default     = ["projects/sec-ops-1234/notificationChannels/4242424242"]
}

variable "deployer" {
  type        = string
  description = "Service account Terraform impersonates to deploy the organization responder."
  default     = "integrity-deployer@sec-ops-1234.iam.gserviceaccount.com"
}

provider "google" {
  project = var.security_project
  region  = "us-central1"
}

provider "google-beta" {
  project = var.security_project
  region  = "us-central1"
}

provider "google" {
  alias                       = "deployer"
  project                     = var.security_project
  region                      = "europe-west1"
  impersonate_service_account = var.deployer
}

provider "google-beta" {
  alias                       = "deployer"
  project                     = var.security_project
  region                      = "europe-west1"
  impersonate_service_account = var.deployer
}

provider "time" {}

module "fleet" {
  source = "../../terraform"

  project_id            = var.security_project
  watched_project_id    = var.fleet_project
  name_prefix           = "fleet-integrity"
  failure_action        = "suspend"
  notification_channels = var.notification_channels
}

module "organization" {
  source = "../../terraform/modules/organization"
  providers = {
    google      = google.deployer
    google-beta = google-beta.deployer
    time        = time
  }

  project_id                = var.security_project
  organization_id           = var.organization_id
  region                    = "europe-west1"
  name_prefix               = "org-integrity"
  excluded_projects         = ["lab-sandbox-1", "lab-sandbox-2"]
  enforcement               = "dry-run"
  require_baseline_approval = true
  notification_channels     = var.notification_channels
  labels = {
    team = "security"
  }
}

output "fleet_function" {
  value = module.fleet.function_name
}

output "organization_sink_writer_identity" {
  value = module.organization.sink_writer_identity
}

output "organization_instance_role" {
  value = module.organization.instance_role
}

output "organization_dead_letter_subscription" {
  value = module.organization.dead_letter_subscription
}
