# Nomad client settings for netloom (merge into the client agent's configuration).
# netloom-cni must be in cni_path and deploy/nomad/netloom.conflist in cni_config_dir; a job names
# the network by the conflist's "name" (network { mode = "cni/netloom" }). docs/orchestrators.md.
client {
  enabled        = true
  cni_path       = "/opt/cni/bin"
  cni_config_dir = "/etc/cni/net.d"
}
