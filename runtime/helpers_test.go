package runtime_test

import "github.com/hashicorp/hcl/v2/hclparse"

func hclParser() *hclparse.Parser { return hclparse.NewParser() }
