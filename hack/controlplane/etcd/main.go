// Command etcd is the etcd server at the version kube-apiserver is tested with.
// etcd's own main package lives in a module with replace directives, so it cannot be
// built as a dependency; its entry point, etcdmain.Main, can.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
