# A job on the netloom CNI network: the allocation's namespace ("default" here) is its netloom
# tenant by the conflist's "nomad" mapping, its endpoint carries the labels nomadproject.io/job=web,
# nomadproject.io/group=frontend (and region, namespace, alloc), and port "http" is published on
# the client's addresses (host port chosen by Nomad, to container port 8080).
job "web" {
  datacenters = ["dc1"]

  group "frontend" {
    network {
      mode = "cni/netloom"
      port "http" {
        to = 8080
      }
    }

    task "server" {
      driver = "docker"
      config {
        image   = "busybox:1"
        command = "httpd"
        args    = ["-f", "-p", "8080"]
      }
    }
  }
}
