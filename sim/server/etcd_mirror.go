package server

import "encoding/json"

// snapshot is the cluster as mirrored to etcd.
func (st *state) snapshot() []byte {
	doc := map[string]any{
		"name":                 st.Cluster.Name,
		"master":               st.Cluster.Master,
		"shared_state_version": st.Cluster.SharedState,
		"config":               st.Cluster.Config,
		"members":              st.memberList(),
	}
	data, _ := json.Marshal(doc)
	return data
}
