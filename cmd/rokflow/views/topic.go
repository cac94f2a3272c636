package views

import (
	"fmt"
	"io"

	"github.com/rokflow/rokflow/lang/schema"
)

// Topic is a block documented beside the step kinds, such as connection:
// what `rokflow steps NAME` shows for a name that is not a kind.
type Topic struct {
	Name        string
	Summary     string
	Description string
	Block       *schema.Block
}

// TopicDoc writes the documentation of a topic block, from its schema.
func TopicDoc(w io.Writer, t Topic, colorOn bool) {
	c := newPalette(colorOn)
	fmt.Fprintf(w, "%s — %s\n\n", c.bold(t.Name), t.Summary)
	if t.Description != "" {
		fmt.Fprintf(w, "%s\n\n", wrap(t.Description, 80, ""))
	}
	fmt.Fprintf(w, "%s\n", c.bold("Attributes:"))
	writeBlockDoc(w, c, t.Block, "  ")
}

// topicJSON is the JSON form of a topic's documentation.
type topicJSON struct {
	Summary     string    `json:"summary"`
	Description string    `json:"description"`
	Block       blockJSON `json:"block"`
}

func topicDoc(t Topic) topicJSON {
	return topicJSON{Summary: t.Summary, Description: t.Description, Block: blockDoc(t.Block)}
}
