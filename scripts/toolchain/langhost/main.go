// Command pulumi-language-nodejs is a small Node.js language host for the Pulumi engine.
//
// Why this exists: the official host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) which the Go module proxy
// reachable from our build machines does not serve, and get.pulumi.com is unreachable too. All the
// real work of running a program is done by the Node side of @pulumi/pulumi (cmd/run,
// cmd/run-policy-pack, cmd/run-plugin); a host only has to start those scripts with the right
// arguments and environment. This file does exactly that, using the engine's own gRPC types from
// github.com/pulumi/pulumi/sdk/v3 (which the proxy does serve). scripts/toolchain/resolve.mjs
// builds it only when no official host is available.
//
// Everything not implemented here (About, program dependencies, code generation, ...) answers
// Unimplemented, which the engine treats as "older language host" and skips.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/shlex"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Exit code with which @pulumi/pulumi's Node scripts say "the error was already shown to the user".
const exitAfterUserActionableMessage = 32

func main() {
	// The engine starts language hosts as `<host> [flags] <engine-address>`; older engines also pass
	// runtime options as flags, so accept and ignore unknown-but-harmless ones.
	tracing := flag.String("tracing", "", "tracing endpoint (passed through to node)")
	flag.Bool("typescript", true, "ignored: runtime options arrive in ProgramInfo")
	flag.String("root", "", "ignored")
	flag.String("tsconfig", "", "ignored")
	flag.String("nodeargs", "", "ignored")
	flag.String("packagemanager", "", "ignored")
	flag.Parse()

	host := &nodeHost{engine: flag.Arg(0), tracing: *tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start language host: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port) // the engine reads our port from the first stdout line
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host stopped: %v\n", err)
		os.Exit(1)
	}
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine  string
	tracing string
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins reports every installed npm package whose package.json declares
// `"pulumi": {"resource": true}`, like the official host. (The engine calls GetRequiredPackages
// first; our Unimplemented answer makes it fall back to this method.)
func (h *nodeHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	nm := findNodeModules(dir)
	if nm == "" {
		return &pulumirpc.GetRequiredPluginsResponse{}, nil
	}
	var plugins []*pulumirpc.PluginDependency
	for _, pj := range packageJSONs(nm) {
		if dep := pluginFromPackageJSON(pj); dep != nil {
			plugins = append(plugins, dep)
		}
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// findNodeModules returns the nearest node_modules directory at or above dir, as Node resolves it.
func findNodeModules(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "node_modules")); err == nil && st.IsDir() {
			return filepath.Join(d, "node_modules")
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// packageJSONs lists node_modules/<pkg>/package.json and node_modules/@scope/<pkg>/package.json.
// npm hoists dependencies, so the top level is where provider SDK packages end up.
func packageJSONs(nm string) []string {
	var out []string
	top, _ := filepath.Glob(filepath.Join(nm, "*", "package.json"))
	scoped, _ := filepath.Glob(filepath.Join(nm, "@*", "*", "package.json"))
	out = append(out, top...)
	return append(out, scoped...)
}

func pluginFromPackageJSON(path string) *pulumirpc.PluginDependency {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Pulumi  struct {
			Resource bool   `json:"resource"`
			Name     string `json:"name"`
			Version  string `json:"version"`
			Server   string `json:"server"`
		} `json:"pulumi"`
	}
	if json.Unmarshal(b, &pkg) != nil || !pkg.Pulumi.Resource {
		return nil
	}
	name := pkg.Pulumi.Name
	if name == "" { // "@pulumi/aws" -> "aws", "@acme/x" -> "acme/x"
		name = strings.TrimPrefix(strings.TrimPrefix(pkg.Name, "@pulumi/"), "@")
	}
	ver := pkg.Pulumi.Version
	if ver == "" {
		ver = pkg.Version
	}
	if ver != "" && !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	return &pulumirpc.PluginDependency{Name: name, Kind: "resource", Version: ver, Server: pkg.Pulumi.Server}
}

// runtimeOptions reads the `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml.
type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
}

func optionsOf(info *pulumirpc.ProgramInfo) (runtimeOptions, error) {
	o := runtimeOptions{typescript: true}
	opts := info.GetOptions().AsMap()
	if v, ok := opts["typescript"].(bool); ok {
		o.typescript = v
	}
	if v, ok := opts["tsconfig"].(string); ok {
		o.tsconfig = v
	}
	if v, ok := opts["nodeargs"].(string); ok && v != "" {
		args, err := shlex.Split(v)
		if err != nil {
			return o, fmt.Errorf("runtime option nodeargs: %w", err)
		}
		o.nodeargs = args
	}
	return o, nil
}

// resolveScript finds one of @pulumi/pulumi's entry scripts the way Node would from dir, so the
// copy of @pulumi/pulumi installed next to the program (or policy pack) is the one that runs.
func resolveScript(dir, module string) (string, error) {
	cmd := exec.Command("node", "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("could not find %s from %s; has `npm install` been run? (%v: %s)",
			module, dir, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Run executes a Pulumi program: `node [nodeargs] @pulumi/pulumi/cmd/run --monitor ... <program>`.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	opts, err := optionsOf(info)
	if err != nil {
		return nil, err
	}
	runPath, err := resolveScript(dir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := append(append([]string{}, opts.nodeargs...), runPath)
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engine)
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("stack", req.GetStack())
	flagArg("root-directory", info.GetRootDirectory())
	flagArg("pwd", dir)
	flagArg("tracing", h.tracing)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		flagArg("parallel", fmt.Sprint(req.GetParallel()))
	}
	// The entry point is relative to the program directory; "." lets cmd/run use package.json "main".
	entry := req.GetProgram()
	if entry == "" {
		entry = "."
	}
	args = append(append(args, entry), req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", opts.typescript),
	)
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = env
	// The engine streams our stdout/stderr to the user (console.log shows up as stack diagnostics).
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err = startNode(cmd, 1+len(opts.nodeargs)); err == nil {
		err = cmd.Wait()
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitAfterUserActionableMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
}

// RunPlugin runs a plugin written in Node: a policy pack (kind "analyzer", e.g. `pulumi up
// --policy-pack dir`) or a provider/tool plugin with a PulumiPlugin.yaml. Its output is streamed
// back to the engine, which reads the plugin's gRPC port from the first stdout line.
func (h *nodeHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	opts, err := optionsOf(info)
	if err != nil {
		return err
	}
	var args []string
	switch req.GetKind() {
	case "analyzer": // usage of cmd/run-policy-pack: <engine-address> <program>
		script, err := resolveScript(dir, "@pulumi/pulumi/cmd/run-policy-pack")
		if err != nil {
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		args = append(append(append(opts.nodeargs, script), req.GetArgs()...), dir)
	default: // usage of cmd/run-plugin: [--pwd dir] <program> [args...]
		script, err := resolveScript(dir, "@pulumi/pulumi/cmd/run-plugin")
		if err != nil {
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		args = append(append(opts.nodeargs, script, "--pwd", dir, dir), req.GetArgs()...)
	}

	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	env = append(env, fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", opts.typescript))
	code, err := stream(server.Context(), dir, env, append([]string{"node"}, args...), 1+len(opts.nodeargs),
		func(b []byte) error {
			return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
		},
		func(b []byte) error {
			return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
		})
	if err != nil {
		return err
	}
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// InstallDependencies serves `pulumi install`: it runs the project's package manager (the
// `packagemanager` runtime option, else guessed from the lock file) in the program directory.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory()
	}
	pm, _ := req.GetInfo().GetOptions().AsMap()["packagemanager"].(string)
	if pm == "" {
		pm = "npm"
		for lock, manager := range map[string]string{"yarn.lock": "yarn", "pnpm-lock.yaml": "pnpm", "bun.lockb": "bun"} {
			if _, err := os.Stat(filepath.Join(dir, lock)); err == nil {
				pm = manager
			}
		}
	}
	code, err := stream(server.Context(), dir, os.Environ(), []string{pm, "install"}, 1,
		func(b []byte) error { return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b}) },
		func(b []byte) error { return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b}) })
	if err == nil && code != 0 {
		err = fmt.Errorf("`%s install` in %s exited with code %d", pm, dir, code)
	}
	return err
}

// stream runs argv in dir and forwards its stdout/stderr chunks as they arrive; it returns the
// exit code. gRPC streams must not be sent on concurrently, hence the mutex. For node, argv's
// options end before index scriptAt (startNode).
func stream(ctx context.Context, dir string, env, argv []string, scriptAt int, stdout, stderr func([]byte) error) (int32, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return 0, err
	}
	if err := startNode(cmd, scriptAt); err != nil {
		return 0, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	pump := func(r io.Reader, send func([]byte) error) {
		defer wg.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				mu.Lock()
				_ = send(append([]byte{}, buf[:n]...))
				mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go pump(outPipe, stdout)
	go pump(errPipe, stderr)
	wg.Wait() // drain both pipes before Wait closes them
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return 0, err
		}
		return int32(exitErr.ExitCode()), nil
	}
	return 0, nil
}

// The variables that carry a stack's config, every secret decrypted: PULUMI_CONFIG from the
// engine (Run, and RunPlugin's environment when the engine puts it there) and its list of secret keys.
var configVariables = map[string]bool{"PULUMI_CONFIG": true, "PULUMI_CONFIG_SECRET_KEYS": true}

// configReader runs in the node process before anything else it loads (an --import of a data:
// URL, so it needs no file of ours next to the program): it reads the variables from the pipe
// named by TENANCY_CONFIG_FD into process.env, where @pulumi/pulumi reads them, and closes the pipe.
//
// Children the process starts without an environment of their own (tsx's esbuild service, any
// command the program runs) get process.env without those variables: they would otherwise hold
// every decrypted secret in their /proc/<pid>/environ, and a config over 128 KiB could not start them.
const configReader = `import childProcess from "node:child_process";
import { closeSync, readFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const fd = Number(process.env.TENANCY_CONFIG_FD);
delete process.env.TENANCY_CONFIG_FD;
let text;
try { text = readFileSync(fd, "utf8"); } finally { closeSync(fd); }
const vars = JSON.parse(text);
Object.assign(process.env, vars);
const inherited = () => {
  const env = { ...process.env };
  for (const name of Object.keys(vars)) delete env[name];
  return env;
};
for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
  const start = childProcess[name];
  childProcess[name] = function (...args) {
    const at = args.findIndex((a, i) => i > 0 && a !== null && typeof a === "object" && !Array.isArray(a));
    if (at > 0) {
      if (args[at].env === undefined) args[at] = { ...args[at], env: inherited() };
    } else {
      args.splice(Array.isArray(args[1]) ? 2 : 1, 0, { env: inherited() });
    }
    return start.apply(this, args);
  };
}
syncBuiltinESMExports(); // so that import { spawn } from "node:child_process" sees the same
`

// startNode starts a node command line with the config variables of cmd.Env moved onto a pipe;
// scriptAt is the index in cmd.Args of the script node runs, after node's own options.
//
// Why: Linux caps a single environment string at 128 KiB (MAX_ARG_STRLEN), so a stack whose
// config is larger (every integration adds a secret) failed to start with "fork/exec node:
// argument list too long" (the official host has the same limit: pulumi/pulumi#8680). A pipe
// has no such limit, keeps the decrypted config out of /proc/<pid>/environ, and writes nothing
// to disk. Setting process.env inside node does not change /proc/<pid>/environ either.
func startNode(cmd *exec.Cmd, scriptAt int) error {
	vars := map[string]string{}
	kept := make([]string, 0, len(cmd.Env))
	for _, kv := range cmd.Env {
		if name, value, _ := strings.Cut(kv, "="); configVariables[name] {
			vars[name] = value // the last one wins, as in an environment
			continue
		}
		kept = append(kept, kv)
	}
	if len(vars) == 0 {
		return cmd.Start()
	}
	payload, err := json.Marshal(vars)
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	fd := 3 + len(cmd.ExtraFiles) // ExtraFiles[i] is fd 3+i in the child
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(kept, fmt.Sprintf("TENANCY_CONFIG_FD=%d", fd))
	reader := "data:text/javascript," + url.PathEscape(configReader)
	// After the program's own node options: a loader they register (--import tsx) runs its hooks
	// in a worker thread whose process.env is a copy taken when it starts, so it must start
	// before the config is in process.env, or its esbuild child would inherit it.
	cmd.Args = append(append(append([]string{}, cmd.Args[:scriptAt]...), "--import", reader), cmd.Args[scriptAt:]...)
	err = cmd.Start()
	r.Close() // the child holds its own copy; ours must go so the writer sees EPIPE if the child dies unread
	if err != nil {
		w.Close()
		return err
	}
	go func() {
		// A pipe holds 64 KiB: the rest is written as node reads. A child that exits first makes
		// this fail with EPIPE, which ends the goroutine; the exit status says what happened.
		_, _ = w.Write(payload)
		w.Close()
	}()
	return nil
}
