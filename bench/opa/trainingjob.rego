# TrainingJob validation for Open Policy Agent, written for the side-by-side admission benchmark
# (bench/admission.bench.ts). It carries the core rules of policies/ in Rego v1:
#   schema ranges (numWorkers 1..32, gpusPerWorker 0..8, backoffLimit 0..10, framework enum),
#   image or model, and for every TrainingPolicy whose namespaceSelector matches the namespace:
#   allowed images (prefix, or glob with * and ?), allowed frameworks, required labels,
#   max workers / max GPUs per job (strictest policy), GPU quota and max concurrent jobs.
# Quota arithmetic uses the namespace's jobs given as data (data.facts), as our webhook's facts do:
# usage = GPUs of jobs that are not Completed/Failed, not queued, and not the job itself.
#
# Served with `opa run --server --set=default_decision=trainingjob/admission/main`: POST / with the
# AdmissionReview as body answers the AdmissionReview (the OPA-as-admission-webhook convention).
# Not the product: the product's rules live in policies/ (TypeScript); this file is not kept in
# lockstep with every message, only with every verdict (the benchmark checks that they agree).
package trainingjob.admission

req := input.request

job := object.get(req, "object", {})

spec := object.get(job, "spec", {})

ns := object.get(req, "namespace", "")

num_workers := object.get(spec, "numWorkers", 1)

gpus_per_worker := object.get(spec, "gpusPerWorker", 1)

framework := object.get(spec, "framework", "pytorch")

demand := num_workers * gpus_per_worker

writes if req.operation in {"CREATE", "UPDATE"}

creates if req.operation == "CREATE"

# ---- the namespace and the policies that apply to it ----

ns_labels := object.union(object.get(data.facts.namespaces, [ns, "labels"], {}), {"kubernetes.io/metadata.name": ns})

selector_matches(sel) if {
	every k, v in object.get(sel, "matchLabels", {}) {
		ns_labels[k] == v
	}
	every r in object.get(sel, "matchExpressions", []) {
		requirement_holds(r)
	}
}

requirement_holds(r) if {
	r.operator == "In"
	ns_labels[r.key] in r.values
}

requirement_holds(r) if {
	r.operator == "NotIn"
	not ns_labels[r.key] in r.values
}

requirement_holds(r) if {
	r.operator == "Exists"
	_ = ns_labels[r.key]
}

requirement_holds(r) if {
	r.operator == "DoesNotExist"
	not has_ns_label(r.key)
}

has_ns_label(k) if _ = ns_labels[k]

# Keyed by name (a set of whole policy objects would hash each one on every query).
policies[p.metadata.name] := p if {
	some p in data.facts.policies
	selector_matches(object.get(p.spec, "namespaceSelector", {}))
}

# ---- schema (the core ranges of the CRD) ----

deny contains sprintf("spec.numWorkers: %v must be an integer", [num_workers]) if {
	writes
	not is_integer(num_workers)
}

deny contains sprintf("spec.numWorkers: %v is less than the minimum 1", [num_workers]) if {
	writes
	num_workers < 1
}

deny contains sprintf("spec.numWorkers: %v exceeds the maximum 32", [num_workers]) if {
	writes
	num_workers > 32
}

deny contains sprintf("spec.gpusPerWorker: %v must be an integer", [gpus_per_worker]) if {
	writes
	not is_integer(gpus_per_worker)
}

deny contains sprintf("spec.gpusPerWorker: %v is less than the minimum 0", [gpus_per_worker]) if {
	writes
	gpus_per_worker < 0
}

deny contains sprintf("spec.gpusPerWorker: %v exceeds the maximum 8", [gpus_per_worker]) if {
	writes
	gpus_per_worker > 8
}

deny contains sprintf("spec.backoffLimit: %v must be between 0 and 10", [b]) if {
	writes
	b := spec.backoffLimit
	not in_range(b, 0, 10)
}

deny contains sprintf("spec.framework: %q must be one of pytorch, tensorflow, xgboost, jax", [framework]) if {
	writes
	not framework in {"pytorch", "tensorflow", "xgboost", "jax"}
}

is_integer(n) if {
	is_number(n)
	round(n) == n
}

in_range(n, lo, hi) if {
	is_integer(n)
	n >= lo
	n <= hi
}

deny contains "spec: either image or model must be given" if {
	writes
	not has_key(spec, "image")
	not has_key(spec, "model")
}

has_key(o, k) if _ = o[k]

# ---- policy rules ----

image_matches(image, pattern) if {
	not is_glob(pattern)
	startswith(image, pattern)
}

is_glob(pattern) if contains(pattern, "*")

is_glob(pattern) if contains(pattern, "?")

image_matches(image, pattern) if {
	is_glob(pattern)

	# null delimiters (an empty list would mean ["."]): "*" crosses "/", ":" and ".", as in policies/image-pattern.ts.
	glob.match(pattern, null, image)
}

deny contains sprintf("spec.image: %q is not allowed; allowed: %s (TrainingPolicy %s)", [spec.image, concat(", ", p.spec.allowedImages), p.metadata.name]) if {
	creates
	some p in policies
	count(object.get(p.spec, "allowedImages", [])) > 0
	is_string(spec.image)
	not any_image_match(spec.image, p.spec.allowedImages)
}

any_image_match(image, patterns) if {
	some pattern in patterns
	image_matches(image, pattern)
}

deny contains sprintf("spec.framework: %q is not allowed; allowed: %s (TrainingPolicy %s)", [framework, concat(", ", p.spec.allowedFrameworks), p.metadata.name]) if {
	creates
	some p in policies
	count(object.get(p.spec, "allowedFrameworks", [])) > 0
	not framework in p.spec.allowedFrameworks
}

deny contains sprintf("metadata.labels.%s: required label is missing", [key]) if {
	writes
	some p in policies
	some key in object.get(p.spec, "requiredLabels", [])
	not has_key(object.get(job, ["metadata", "labels"], {}), key)
}

max_workers := min({v | some p in policies; v := p.spec.maxWorkers})

max_gpus_per_job := min({v | some p in policies; v := p.spec.maxGPUsPerJob})

deny contains sprintf("spec.numWorkers: %v exceeds the maximum %v (per policy)", [num_workers, max_workers]) if {
	creates
	num_workers > max_workers
}

deny contains sprintf("spec: %v GPUs (%v workers × %v GPUs) exceeds the maximum %v GPUs per job", [demand, num_workers, gpus_per_worker, max_gpus_per_job]) if {
	creates
	demand > max_gpus_per_job
}

# ---- capacity: GPU quota and concurrent jobs ----

holding contains j if {
	some j in object.get(data.facts.jobs, ns, [])
	j.metadata.name != object.get(job, ["metadata", "name"], "")
	not object.get(j, ["status", "state"], "") in {"Completed", "Failed"}
	not queued(j)
}

queued(j) if {
	j.spec.suspend == true
	_ = j.metadata.annotations["ml.example.com/queued"]
}

in_use := sum([g | some j in holding; g := object.get(j.spec, "numWorkers", 1) * object.get(j.spec, "gpusPerWorker", 1)])

gpu_quota := min({q | some p in policies; q := p.spec.gpuQuota})

# overQuota: Queue admits the job suspended instead (our mutating step); the capacity checks do not refuse it.
queues if {
	some p in policies
	p.spec.overQuota == "Queue"
}

deny contains sprintf("namespace %s GPU quota %v: %v in use, this job asks %v (%v workers × %v GPUs)", [ns, gpu_quota, in_use, demand, num_workers, gpus_per_worker]) if {
	creates
	not queues
	demand > 0
	in_use + demand > gpu_quota
}

max_concurrent := min({v | some p in policies; v := p.spec.maxConcurrentJobs})

deny contains sprintf("namespace %s concurrent job limit %v: %v active, this job would make %v", [ns, max_concurrent, count(holding), count(holding) + 1]) if {
	creates
	not queues
	count(holding) + 1 > max_concurrent
}

# ---- the AdmissionReview answer ----

messages := sort([m | some m in deny])

response := {"uid": req.uid, "allowed": true} if {
	count(deny) == 0
} else := {
	"uid": req.uid,
	"allowed": false,
	"status": {"code": 403, "reason": "Forbidden", "message": concat("; ", messages)},
}

main := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": response,
}
