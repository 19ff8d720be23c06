// cni-driver: runs one CNI operation on a network configuration list through the real libcni
// (Debian's golang-github-appc-cni-dev), as a container runtime does, for netloom's CNI
// conformance test (test/integration/cni/conformance.test.ts). Built there with
// GOPATH=/usr/share/gocode GO111MODULE=off go build (no module proxy).
//
// Usage: cni-driver -op add|check|del|validate|version -conflist FILE -bindir DIR -cachedir DIR
//
//	[-id CONTAINER_ID -netns PATH -ifname NAME]
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
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
)

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
	flag.Parse()

	list, err := libcni.ConfListFromFile(*conflist)
	if err != nil {
		fail(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{*bindir}, *cachedir, nil)
	rt := &libcni.RuntimeConf{ContainerID: *id, NetNS: *netns, IfName: *ifname}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	switch *op {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
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
