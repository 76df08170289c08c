// Pins the Lua interpreter Argo CD runs health checks with, so the deploy tests run
// deploy/argocd/health.lua as Argo CD would. test/integration/deploy builds it with Go.
module labimages.io/hack/argocd-lua

go 1.24.0

require github.com/yuin/gopher-lua v1.1.2
