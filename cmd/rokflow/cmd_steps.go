package main

import (
	"fmt"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// StepsCmd documents step kinds from their schemas, and the connection
// block.
type StepsCmd struct {
	Kind string `arg:"" optional:"" help:"A kind to document, such as exec or ganeti.node_evacuate, or \"connection\" for the connection block."`
	JSON bool   `help:"Print the documentation as JSON." name:"json"`
}

// connectionTopic documents the connection block from its schema.
var connectionTopic = views.Topic{
	Name:        "connection",
	Summary:     connect.Summary,
	Description: connect.Description,
	Block:       connect.Schema,
}

// Run lists the kinds or documents one.
func (c *StepsCmd) Run(a *App) error {
	if c.Kind == connectionTopic.Name {
		if c.JSON {
			return views.KindsJSON(a.Stdout, nil, connectionTopic)
		}
		views.TopicDoc(a.Stdout, connectionTopic, a.Streams.Color)
		return nil
	}
	var schemas []*steps.Schema
	if c.Kind != "" {
		k, ok := a.Registry.Lookup(c.Kind)
		if !ok {
			msg := fmt.Sprintf("there is no step kind %q.", c.Kind)
			if s := nearest(c.Kind, append(a.Registry.Names(), connectionTopic.Name)); s != "" {
				msg += fmt.Sprintf(" Did you mean %q?", s)
			}
			return &exitError{code: exitFailed, msg: msg + ` Run "rokflow steps" to list the kinds.`}
		}
		schemas = append(schemas, k.Schema())
	} else {
		for _, n := range a.Registry.Names() {
			k, _ := a.Registry.Lookup(n)
			schemas = append(schemas, k.Schema())
		}
	}
	if c.JSON {
		if c.Kind == "" {
			return views.KindsJSON(a.Stdout, schemas, connectionTopic)
		}
		return views.KindsJSON(a.Stdout, schemas)
	}
	if c.Kind != "" {
		views.KindDoc(a.Stdout, schemas[0], a.Streams.Color)
		return nil
	}
	views.KindList(a.Stdout, a.Registry, a.Streams.Color)
	return nil
}
