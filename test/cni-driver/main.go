// cni-driver: runs one CNI operation on a network configuration list through the real libcni
// (Debian's golang-github-appc-cni-dev), as a container runtime does, for netloom's CNI
// conformance test (test/integration/cni/conformance.test.ts). Built there with
// GOPATH=/usr/share/gocode GO111MODULE=off go build (no module proxy).
//
// Usage: cni-driver -op add|check|del|validate|version -conflist FILE -bindir DIR -cachedir DIR
//
//	[-id CONTAINER_ID -netns PATH -ifname NAME] [-args K=V;K2=V2] [-portmap JSON] [-gocni]
//
// -args and -portmap are the RuntimeConf's Args and CapabilityArgs["portMappings"] as containerd's
// go-cni fills them (namespace.go config(): WithLabels' map as Args, WithCapabilityPortMap's
// []PortMapping as is), which is how Nomad's client calls a CNI network
// (client/allocrunner/networking_cni.go Setup, Teardown). -gocni: an ADD's result is converted as
// go-cni's Network.Attach does (types100.NewResultFromResult) and the address picked as Nomad's
// cniToAllocNet picks it (the first interface by name with a sandbox and an address).
//
// Success: exit 0 and one JSON document on stdout (add: the result; check, del: {}; validate:
// {"capabilities": [...]}; version: the plugin's version info). Failure: exit 1 and
// {"code": N, "msg": "...", "details": "..."} on stdout (code 0 when libcni itself failed).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// PortMapping is go-cni's (types.go): no JSON tags, so the plugin sees Go's field names.
type PortMapping struct {
	HostPort      int32
	ContainerPort int32
	Protocol      string
	HostIP        string
}

// nomadView is what Nomad's client takes from go-cni's result: the address and its interface.
func nomadView(r types.Result) (map[string]interface{}, error) {
	res, err := types100.NewResultFromResult(r)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, i := range res.Interfaces {
		names = append(names, i.Name)
	}
	sort.Strings(names)
	for _, name := range names {
		for n, i := range res.Interfaces {
			if i.Name != name || i.Sandbox == "" {
				continue
			}
			for _, ip := range res.IPs {
				if ip.Interface != nil && *ip.Interface == n {
					return map[string]interface{}{"result": res, "address": ip.Address.IP.String(), "interface": name}, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("failed to configure network: no interface with an address")
}

func fail(err error) {
	out := map[string]interface{}{"code": 0, "msg": err.Error()}
	var cniErr *types.Error
	if errors.As(err, &cniErr) {
		out = map[string]interface{}{"code": cniErr.Code, "msg": cniErr.Msg, "details": cniErr.Details}
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	os.Exit(1)
}

func emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(b))
}

func main() {
	op := flag.String("op", "", "add, check, del, validate or version")
	conflist := flag.String("conflist", "", "network configuration list file")
	bindir := flag.String("bindir", "", "directory of the plugin binaries (CNI_PATH)")
	cachedir := flag.String("cachedir", "", "libcni's result cache directory")
	id := flag.String("id", "", "container ID")
	netns := flag.String("netns", "", "network namespace path")
	ifname := flag.String("ifname", "eth0", "interface name")
	cniArgs := flag.String("args", "", "CNI_ARGS as K=V;K2=V2 (RuntimeConf.Args)")
	portmap := flag.String("portmap", "", "JSON list of go-cni PortMappings (CapabilityArgs portMappings)")
	gocni := flag.Bool("gocni", false, "convert an ADD result as go-cni does and pick the address as Nomad does")
	flag.Parse()

	list, err := libcni.ConfListFromFile(*conflist)
	if err != nil {
		fail(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{*bindir}, *cachedir, nil)
	rt := &libcni.RuntimeConf{ContainerID: *id, NetNS: *netns, IfName: *ifname}
	if *cniArgs != "" {
		for _, pair := range strings.Split(*cniArgs, ";") {
			kv := strings.SplitN(pair, "=", 2)
			if len(kv) != 2 {
				fail(fmt.Errorf("-args: %q is not K=V", pair))
			}
			rt.Args = append(rt.Args, [2]string{kv[0], kv[1]})
		}
	}
	if *portmap != "" {
		var ports []PortMapping
		if err := json.Unmarshal([]byte(*portmap), &ports); err != nil {
			fail(fmt.Errorf("-portmap: %v", err))
		}
		rt.CapabilityArgs = map[string]interface{}{"portMappings": ports}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	switch *op {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		if *gocni {
			view, err := nomadView(res)
			if err != nil {
				fail(err)
			}
			emit(view)
			return
		}
		emit(res)
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
		emit(map[string]interface{}{})
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
		emit(map[string]interface{}{})
	case "validate":
		caps, err := cni.ValidateNetworkList(ctx, list)
		if err != nil {
			fail(err)
		}
		emit(map[string]interface{}{"capabilities": caps})
	case "version":
		info, err := cni.GetVersionInfo(ctx, list.Plugins[0].Network.Type)
		if err != nil {
			fail(err)
		}
		emit(map[string]interface{}{"supportedVersions": info.SupportedVersions()})
	default:
		fail(fmt.Errorf("unknown -op %q", *op))
	}
}
