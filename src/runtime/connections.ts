import type { KubeConfig } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<Parameters<KubeConfig['applySecurityAuthentication']>[0]['getDispatcher']>>;

const shared = new WeakSet<KubeConfig>();

/**
 * client-node 2.x gives every request a new undici Agent, so every API request opens its own TLS
 * connection: a handshake and a new SecureContext (CA, client certificate) each time, and idle
 * sockets piling up; under load that was the largest share of the operator's CPU. This makes
 * `kc` hand out one dispatcher per cluster and user instead, so requests share keep-alive (HTTP/2)
 * connections as client-go's do. Changes `kc` in place, once; TLS material is assumed fixed per
 * kubeconfig user (bearer tokens, which do rotate, travel in headers, not in the dispatcher).
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  if (shared.has(kc)) return kc;
  shared.add(kc);
  const apply = kc.applySecurityAuthentication.bind(kc);
  const dispatchers = new Map<string, Dispatcher>();
  kc.applySecurityAuthentication = async (context) => {
    await apply(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const key = `${kc.getCurrentCluster()?.name ?? ''}\n${kc.getCurrentCluster()?.server ?? ''}\n${kc.getCurrentUser()?.name ?? ''}`;
    const existing = dispatchers.get(key);
    // The fresh Agent has not connected yet, so dropping it costs nothing.
    if (existing) context.setDispatcher(existing);
    else dispatchers.set(key, fresh);
  };
  return kc;
}
