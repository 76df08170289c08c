// Pins the Lua interpreter and JSON encoder Argo CD 3.6 runs health checks with (its go.mod:
// gopher-lua v1.1.2, layeh.com/gopher-json 97fed8db8427), so the tests run
// deploy/argocd/health.lua as Argo CD would. test/judges.ts builds it with Go.
module labimages.io/hack/argocd-lua

go 1.24.0

require (
	github.com/yuin/gopher-lua v1.1.2
	layeh.com/gopher-json v0.0.0-20190114024228-97fed8db8427
)
