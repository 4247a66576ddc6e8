// The local cluster's address ranges. All lie inside 127.0.0.0/8, so whatever kube-apiserver, kwok or
// a controller dials (a Service ClusterIP, a pod IP, a node address) stays on this machine.
// kube-apiserver v1.34 takes a loopback service range and loopback pod and node IPs; only Endpoints
// and EndpointSlices refuse loopback addresses, so their writers are turned off (component-args.ts).

/** Service ClusterIPs, the default ServiceCIDR included. */
export const SERVICE_CIDR = '127.64.0.0/24';
/** The `kubernetes` Service: the first address of SERVICE_CIDR, named in the apiserver's certificate. */
export const KUBERNETES_SERVICE_IP = '127.64.0.1';
/** Pod IPs that kwok hands out (a scrape of one reaches a closed loopback port, never the network). */
export const KWOK_POD_CIDR = '127.128.0.0/16';
/** kwok nodes' InternalIP: kwok's own server listens there, so the apiserver's kubelet calls reach kwok. */
export const KWOK_NODE_IP = '127.0.0.1';
