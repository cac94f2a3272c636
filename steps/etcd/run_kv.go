package etcd

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rokflow/rokflow/steps"
)

// connect decodes the `etcd` argument and dials it.
func connect(ctx context.Context, kind string, args cty.Value) (conn, *clientv3.Client, hcl.Diagnostics) {
	c, ok, diags := parseConn(steps.Attr(args, "etcd"))
	if !ok {
		if !diags.HasErrors() {
			diags = append(diags, steps.Errorf("etcd connection not known", "Kind %s needs a wholly known etcd argument.", kind))
		}
		return c, nil, diags
	}
	cli, err := c.dial(ctx)
	if err != nil {
		return c, nil, append(diags, c.callError("Cannot connect to etcd", "Connecting as "+c.identity(), err))
	}
	return c, cli, diags
}

// Run implements steps.Kind.
func (Get) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	diags := checkKey(steps.Attr(req.Args, "key"))
	key, _ := steps.Str(steps.Attr(req.Args, "key"))
	prefix, _ := steps.Bool(steps.Attr(req.Args, "prefix"), false)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	c, cli, cdiags := connect(ctx, getSchema.Name, req.Args)
	if cli == nil {
		return steps.RunResponse{Diagnostics: append(diags, cdiags...)}
	}
	defer cli.Close()
	var opts []clientv3.OpOption
	if prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	cctx, cancel := c.call(ctx)
	defer cancel()
	resp, err := cli.Get(cctx, key, opts...)
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, c.callError("etcd read failed", "Reading "+key, err))}
	}
	values := map[string]cty.Value{}
	value := ""
	for _, kv := range resp.Kvs {
		values[string(kv.Key)] = cty.StringVal(string(kv.Value))
		if string(kv.Key) == key {
			value = string(kv.Value)
		}
	}
	vm := cty.MapValEmpty(cty.String)
	if len(values) > 0 {
		vm = cty.MapVal(values)
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"value":    cty.StringVal(value),
		"values":   vm,
		"found":    cty.BoolVal(len(resp.Kvs) > 0),
		"revision": cty.NumberIntVal(resp.Header.Revision),
	}), Diagnostics: diags}
}

// Run implements steps.Kind.
func (Put) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	diags := checkKey(steps.Attr(req.Args, "key"))
	key, kok := steps.Str(steps.Attr(req.Args, "key"))
	value, vok := steps.Str(steps.Attr(req.Args, "value"))
	if !kok || !vok {
		diags = append(diags, steps.Errorf("Missing argument", "Kind %s needs both key and value.", putSchema.Name))
	}
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	c, cli, cdiags := connect(ctx, putSchema.Name, req.Args)
	if cli == nil {
		return steps.RunResponse{Diagnostics: append(diags, cdiags...)}
	}
	defer cli.Close()
	cctx, cancel := c.call(ctx)
	defer cancel()
	// Comparing a value on a missing key is false, so a missing key is put.
	resp, err := cli.Txn(cctx).
		If(clientv3.Compare(clientv3.Value(key), "=", value)).
		Else(clientv3.OpPut(key, value, clientv3.WithPrevKV())).
		Commit()
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, c.callError("etcd write failed", "Setting "+key, err))}
	}
	previous, existed := value, true
	if !resp.Succeeded {
		previous, existed = "", false
		if put := resp.Responses[0].GetResponsePut(); put != nil && put.PrevKv != nil {
			previous, existed = string(put.PrevKv.Value), true
		}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"previous": cty.StringVal(previous),
		"existed":  cty.BoolVal(existed),
		"changed":  cty.BoolVal(!resp.Succeeded),
		"revision": cty.NumberIntVal(resp.Header.Revision),
	}), Diagnostics: diags}
}

// Run implements steps.Kind.
func (Wait) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	diags := checkKey(steps.Attr(req.Args, "key"))
	key, _ := steps.Str(steps.Attr(req.Args, "key"))
	wantV := steps.Attr(req.Args, "value")
	want, anyValue := "", wantV.IsNull()
	if !anyValue {
		want, _ = steps.Str(wantV)
	}
	timeout, err := durationArg(steps.Attr(req.Args, "wait_timeout"), 10*time.Minute)
	if err != nil {
		diags = append(diags, steps.Errorf("Invalid wait_timeout", "The wait_timeout argument %s.", err))
	}
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	c, cli, cdiags := connect(ctx, waitSchema.Name, req.Args)
	if cli == nil {
		return steps.RunResponse{Diagnostics: append(diags, cdiags...)}
	}
	defer cli.Close()
	match := func(v []byte) bool { return anyValue || string(v) == want }
	until := key + " exists"
	if !anyValue {
		until = key + " = " + steps.Display(wantV)
	}

	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		cctx, ccancel := c.call(wctx)
		resp, err := cli.Get(cctx, key)
		ccancel()
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				break
			}
			return steps.RunResponse{Diagnostics: append(diags, c.callError("etcd read failed", "Reading "+key, err))}
		}
		if len(resp.Kvs) == 1 && match(resp.Kvs[0].Value) {
			return waitDone(resp.Kvs[0].Value, resp.Kvs[0].ModRevision, diags)
		}
		// Watch from just after the read, so no change in between is missed.
		wch := cli.Watch(clientv3.WithRequireLeader(wctx), key, clientv3.WithRev(resp.Header.Revision+1))
		restart := false
		for wr := range wch {
			if err := wr.Err(); err != nil {
				if wr.CompactRevision != 0 {
					restart = true // history compacted: read again
					break
				}
				return steps.RunResponse{Diagnostics: append(diags, c.callError("etcd watch failed", "Watching "+key, err))}
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut && match(ev.Kv.Value) {
					return waitDone(ev.Kv.Value, ev.Kv.ModRevision, diags)
				}
			}
		}
		if !restart {
			break
		}
	}
	if ctx.Err() != nil {
		return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Wait cancelled", "Waiting until %s was cancelled.", until))}
	}
	return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Timed out waiting for etcd",
		"%s did not happen within %s (wait_timeout) on %s.", until, timeout, fmt.Sprint(c.Endpoints)))}
}

func waitDone(value []byte, rev int64, diags hcl.Diagnostics) steps.RunResponse {
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"value":    cty.StringVal(string(value)),
		"revision": cty.NumberIntVal(rev),
	}), Diagnostics: diags}
}
