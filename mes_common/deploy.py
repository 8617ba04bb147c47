"""The Kubernetes manifests of the MES, made from the process registry
(`mes deploy k8s` writes them under deploy/k8s/base; docs/operations.md).

One image runs every process; each service and the gateway is a Deployment
with its probes, resources, disruption budget and metrics port, each service
database is migrated by a Job of its own before its Deployment's pods start
(an init container waits for the schema), and NetworkPolicies let only the
gateway be reached from outside and each service reach only its own database.
What differs between clusters (replicas, the backing servers, secrets, image)
is in the overlays, written by hand.
"""
from mes_common import broker, registry

PART_OF = "mes"
IMAGE = "mes-platform"
CONFIG_PATH = "/etc/mes/config.yml"
METRICS_PORT = 9100
GATEWAY_PORT = 8000
KEYS_DIR = "/var/run/mes/auth"             # auth's private signing key and its secrets key: auth only
PUBLIC_KEY_DIR = "/var/run/mes/auth-public"  # the public key: auth and the gateway verify tokens
INTEGRATION_KEY_DIR = "/var/run/mes/integration"
STANDARDS_DIR = "/var/lib/mes/standards"   # the official QIF and B2MML schemas (a read-only volume)
NEEDS_STANDARDS = {"quality_service", "integration_service"}
# measured with bench/footprint.py (a shop-floor load through the gateway, 2 instances each): the
# request is the busy process's steady use, the limit leaves room for a large answer (a month of KPIs,
# a 5,000-node genealogy, a PDF report); memory limits are 1.5-2x the largest resident size seen.
RESOURCES = {
    "gateway": ({"cpu": "250m", "memory": "160Mi"}, {"cpu": "1", "memory": "320Mi"}),
    "auth_service": ({"cpu": "100m", "memory": "140Mi"}, {"cpu": "1", "memory": "280Mi"}),
    "work_order_service": ({"cpu": "250m", "memory": "180Mi"}, {"cpu": "1", "memory": "384Mi"}),
    "material_service": ({"cpu": "250m", "memory": "180Mi"}, {"cpu": "1", "memory": "384Mi"}),
    "quality_service": ({"cpu": "100m", "memory": "220Mi"}, {"cpu": "1", "memory": "512Mi"}),
    "traceability_service": ({"cpu": "150m", "memory": "180Mi"}, {"cpu": "1", "memory": "512Mi"}),
    "reporting_service": ({"cpu": "150m", "memory": "200Mi"}, {"cpu": "1", "memory": "512Mi"}),
}
DEFAULT_RESOURCES = ({"cpu": "100m", "memory": "160Mi"}, {"cpu": "1", "memory": "320Mi"})
AUTOSCALED = ("gateway", "work_order_service", "material_service")   # the busiest under the shop-floor load


def k8s_name(process):
    """'work_order_service' -> 'mes-work-order'; 'gateway' -> 'mes-gateway'."""
    return "mes-" + broker.short_name(process).replace("_", "-")


def env_prefix(process):
    return broker.short_name(process).upper()


def labels(process, component="server"):
    return {"app.kubernetes.io/name": k8s_name(process), "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/component": component}


def selector(process):
    return {"app.kubernetes.io/name": k8s_name(process), "app.kubernetes.io/component": "server"}


def database_secret(process):
    """The Secret holding a service's DATABASE_URL (key `url`) and its migration
    login, the database server's administrator (key `admin-url`)."""
    return f"{k8s_name(process)}-database"


def _secret_env(name, secret, key, optional=False):
    ref = {"name": secret, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def _meta(name, process=None, component="server", **extra):
    meta = {"name": name, "labels": labels(process, component) if process else {"app.kubernetes.io/part-of": PART_OF}}
    meta.update(extra)
    return meta


def process_env(spec):
    """What a process reads besides the shared settings: its broker password,
    its database URL, the Redis URL."""
    env = [_secret_env(f"{env_prefix(spec.name)}_BROKER_PASSWORD", "mes-broker-logins",
                       f"{env_prefix(spec.name)}_BROKER_PASSWORD"),
           _secret_env("REDIS_URL", "mes-redis", "url")]
    if spec.database_env:
        env.append(_secret_env(spec.database_env, database_secret(spec.name), "url"))
    return env


def _volumes(spec, server=True):
    """(volumes, mounts): the config for everyone; for a server (not a Job), the
    private key for auth only, the public key for auth and the gateway, the schemas."""
    volumes = [{"name": "config", "configMap": {"name": "mes-config"}}, {"name": "tmp", "emptyDir": {}}]
    mounts = [{"name": "config", "mountPath": CONFIG_PATH, "subPath": "config.yml", "readOnly": True},
              {"name": "tmp", "mountPath": "/tmp"}]
    if not server:
        return volumes, mounts
    if spec.name == "auth_service":
        volumes.append({"name": "auth-keys", "secret": {"secretName": "mes-auth-keys", "defaultMode": 0o400}})
        mounts.append({"name": "auth-keys", "mountPath": KEYS_DIR, "readOnly": True})
    if spec.name in ("auth_service", registry.GATEWAY.name):
        volumes.append({"name": "auth-public-key", "configMap": {"name": "mes-auth-public-key"}})
        mounts.append({"name": "auth-public-key", "mountPath": PUBLIC_KEY_DIR, "readOnly": True})
    if spec.name == "integration_service":
        volumes.append({"name": "integration-keys",
                        "secret": {"secretName": "mes-integration-keys", "defaultMode": 0o400}})
        mounts.append({"name": "integration-keys", "mountPath": INTEGRATION_KEY_DIR, "readOnly": True})
    if spec.name in NEEDS_STANDARDS:
        volumes.append({"name": "standards", "persistentVolumeClaim": {"claimName": "mes-standards", "readOnly": True}})
        mounts.append({"name": "standards", "mountPath": STANDARDS_DIR, "readOnly": True})
    return volumes, mounts


_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "allowPrivilegeEscalation": False,
             "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def _container(spec, args, env, mounts, **extra):
    container = {"name": extra.pop("name", "main"), "image": IMAGE, "args": args,
                 "envFrom": [{"configMapRef": {"name": "mes-settings"}}], "env": env,
                 "volumeMounts": mounts, "securityContext": dict(_SECURITY)}
    container.update(extra)
    return container


def _pod(spec, containers, init=(), restart=None):
    volumes, _ = _volumes(spec, server=restart is None)
    pod = {"serviceAccountName": "mes", "automountServiceAccountToken": False,
           "securityContext": {"fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
           "containers": containers, "volumes": volumes}
    if init:
        pod["initContainers"] = list(init)
    if restart:
        pod["restartPolicy"] = restart
    return pod


def deployment(spec):
    """The Deployment of one process, two instances (the overlays change it)."""
    volumes, mounts = _volumes(spec)
    requests, limits = RESOURCES.get(spec.name, DEFAULT_RESOURCES)
    gateway = spec.name == registry.GATEWAY.name
    ports = [{"name": "metrics", "containerPort": METRICS_PORT}]
    if gateway:
        ports.insert(0, {"name": "http", "containerPort": GATEWAY_PORT})
        # /health, not /ready: /ready asks every service, and one slow service must not
        # take every gateway out of the load balancer
        readiness = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 3,
                     "failureThreshold": 3}
    else:
        # a real round trip: the service answers `ping` over RPC (what /ready asks)
        readiness = {"exec": {"command": ["/app/docker/entrypoint.sh", "health"]}, "periodSeconds": 20,
                     "timeoutSeconds": 10, "failureThreshold": 3}
    liveness = {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 20, "timeoutSeconds": 5,
                "failureThreshold": 3}
    startup = {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 5, "failureThreshold": 36}
    env = process_env(spec) + [{"name": "MES_INSTANCE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    main = _container(spec, [spec.name], env, mounts, ports=ports, readinessProbe=readiness,
                      livenessProbe=liveness, startupProbe=startup,
                      resources={"requests": requests, "limits": limits})
    init = []
    if spec.database:   # its pods start once its migration Job has brought the schema to this release's head
        init.append(_container(spec, ["await-schema", spec.name], env, mounts, name="await-schema",
                               resources={"requests": {"cpu": "50m", "memory": "96Mi"},
                                          "limits": {"cpu": "500m", "memory": "192Mi"}}))
    template = {"metadata": {"labels": labels(spec.name),
                             "annotations": {"prometheus.io/scrape": "true",
                                             "prometheus.io/port": str(METRICS_PORT)}},
                "spec": _pod(spec, [main], init)}
    # nameko finishes the running workers on SIGTERM (the supervisor waits 10 s; allow for a long report)
    template["spec"]["terminationGracePeriodSeconds"] = 30
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(k8s_name(spec.name), spec.name),
            "spec": {"replicas": 2, "revisionHistoryLimit": 5, "selector": {"matchLabels": selector(spec.name)},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                     "template": template}}


def migration_job(spec):
    """The Job that creates a service's roles and database if missing and
    migrates it, as the database server's administrator (`admin-url`)."""
    _, mounts = _volumes(spec, server=False)
    env = [_secret_env(spec.database_env, database_secret(spec.name), "url"),
           _secret_env("MES_PG_ADMIN_URL", database_secret(spec.name), "admin-url")]
    container = _container(spec, ["migrate", spec.name], env, mounts,
                           resources={"requests": {"cpu": "100m", "memory": "128Mi"},
                                      "limits": {"cpu": "1", "memory": "256Mi"}})
    pod = _pod(spec, [container], restart="OnFailure")
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": _meta(f"{k8s_name(spec.name)}-migrate", spec.name, "migration"),
            "spec": {"backoffLimit": 6, "ttlSecondsAfterFinished": 86400,
                     "template": {"metadata": {"labels": labels(spec.name, "migration")}, "spec": pod}}}


def broker_logins_job():
    """The Job that creates every process's broker login with its permissions
    (`mes infra logins`, through the management API with the administrator's login)."""
    spec = registry.GATEWAY
    env = [_secret_env(f"{env_prefix(p)}_BROKER_PASSWORD", "mes-broker-logins", f"{env_prefix(p)}_BROKER_PASSWORD")
           for p in broker.processes()]
    env.append(_secret_env("MES_RABBITMQ_API", "mes-broker-admin", "management-url"))
    container = _container(spec, ["broker-logins"], env, _volumes(spec, server=False)[1],
                           resources={"requests": {"cpu": "50m", "memory": "96Mi"},
                                      "limits": {"cpu": "500m", "memory": "192Mi"}})
    pod = _pod(spec, [container], restart="OnFailure")
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta("mes-broker-logins", "broker", "migration"),
            "spec": {"backoffLimit": 6, "ttlSecondsAfterFinished": 86400,
                     "template": {"metadata": {"labels": labels("broker", "migration")}, "spec": pod}}}


def metrics_service(spec):
    ports = [{"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"}]
    if spec.name == registry.GATEWAY.name:
        ports.insert(0, {"name": "http", "port": 80, "targetPort": "http"})
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(k8s_name(spec.name), spec.name),
            "spec": {"selector": selector(spec.name), "ports": ports}}


def disruption_budget(spec):
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(k8s_name(spec.name), spec.name),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": selector(spec.name)}}}


def autoscaler(spec):
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(k8s_name(spec.name), spec.name),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": k8s_name(spec.name)},
                     "minReplicas": 2, "maxReplicas": 6,
                     "metrics": [{"type": "Resource",
                                  "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                         "averageUtilization": 70}}}],
                     # a burst of scans must not make it flap: scale down after 5 quiet minutes
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}}


def _policy(name, pod_selector, ingress=None, egress=None):
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    spec = {"podSelector": {"matchLabels": pod_selector} if pod_selector else {}, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta(name), "spec": spec}


DATABASE_LABEL = "mes.example.org/database-of"   # on a database server's pods: the service it belongs to
BROKER_LABELS = {"app.kubernetes.io/name": "mes-rabbitmq"}
REDIS_LABELS = {"app.kubernetes.io/name": "mes-redis"}


def network_policies():
    """Nothing reaches anything unless allowed: the gateway from anywhere on
    its HTTP port; every process the broker, Redis and DNS; each service (its
    pods and its migration Job) its own database server only; metrics from the
    monitoring namespace; the integration service the ERPs and webhooks outside."""
    mes_pods = {"app.kubernetes.io/part-of": PART_OF}
    policies = [
        _policy("mes-default-deny", None, ingress=[], egress=[]),
        _policy("mes-gateway-ingress", selector(registry.GATEWAY.name),
                ingress=[{"ports": [{"protocol": "TCP", "port": GATEWAY_PORT}]}]),
        _policy("mes-metrics-ingress", mes_pods, ingress=[{
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"protocol": "TCP", "port": METRICS_PORT}]}]),
        _policy("mes-egress-platform", mes_pods, egress=[
            {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
             "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
            {"to": [{"podSelector": {"matchLabels": BROKER_LABELS}}],
             "ports": [{"protocol": "TCP", "port": 5672}, {"protocol": "TCP", "port": 15672}]},
            {"to": [{"podSelector": {"matchLabels": REDIS_LABELS}}], "ports": [{"protocol": "TCP", "port": 6379}]}]),
        _policy("mes-broker-ingress", BROKER_LABELS, ingress=[
            {"from": [{"podSelector": {"matchLabels": mes_pods}}],
             "ports": [{"protocol": "TCP", "port": 5672}, {"protocol": "TCP", "port": 15672}]},
            # the cluster's own nodes talk to each other (the operator labels them alike)
            {"from": [{"podSelector": {"matchLabels": BROKER_LABELS}}]}]),
        _policy("mes-redis-ingress", REDIS_LABELS, ingress=[
            {"from": [{"podSelector": {"matchLabels": mes_pods}}], "ports": [{"protocol": "TCP", "port": 6379}]}]),
        _policy("mes-integration-egress", {"app.kubernetes.io/name": k8s_name("integration_service")}, egress=[
            # ERP endpoints and webhooks are outside the cluster (the operators' list of addresses may narrow it)
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
             "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 80}]}]),
    ]
    for spec in registry.SERVICES:
        if not spec.database:
            continue
        name = k8s_name(spec.name)
        database_pods = {DATABASE_LABEL: name}
        own = {"app.kubernetes.io/name": name}   # its server pods and its migration Job
        policies.append(_policy(f"{name}-database-egress", own, egress=[
            {"to": [{"podSelector": {"matchLabels": database_pods}}], "ports": [{"protocol": "TCP", "port": 5432}]}]))
        policies.append(_policy(f"{name}-database-ingress", database_pods, ingress=[
            {"from": [{"podSelector": {"matchLabels": own}}], "ports": [{"protocol": "TCP", "port": 5432}]},
            # replication between the server's own instances, and its operator's status checks
            {"from": [{"podSelector": {"matchLabels": database_pods}}]},
            {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}],
             "ports": [{"protocol": "TCP", "port": 8000}]}]))
    return policies


SETTINGS = {
    # config.yml reads these (the rest keep its defaults); secrets are never here
    "MES_CONFIG": CONFIG_PATH,
    "AMQP_URI": "amqp://mes-rabbitmq:5672/",   # each process adds its own login (<NAME>_BROKER_PASSWORD)
    "CACHE_PREFIX": "mes",
    "LOG_LEVEL": "INFO",
    "RPC_TIMEOUT": "10",
    "MAX_WORKERS": "10",
    "DB_POOL_SIZE": "10",
    "GATEWAY_HOST": "0.0.0.0",
    "GATEWAY_PORT": str(GATEWAY_PORT),
    "GATEWAY_TRUSTED_PROXY_HOPS": "1",   # behind the cluster's ingress
    "GATEWAY_TLS": "true",               # TLS ends at the ingress: HSTS on every answer
    "MES_METRICS_PORT": str(METRICS_PORT),
    "MES_METRICS_ADDRESS": "0.0.0.0",     # scraped from the monitoring namespace (a network policy admits it)
    "MES_MIGRATE": "0",                  # the migration Jobs do it
    "MES_WAIT_TIMEOUT": "120",
    "AUTH_GENERATE_KEYS": "false",
    "AUTH_PRIVATE_KEY_FILE": f"{KEYS_DIR}/signing_key.pem",
    "AUTH_SECRETS_KEY_FILE": f"{KEYS_DIR}/secrets.key",
    "AUTH_PUBLIC_KEY_FILE": f"{PUBLIC_KEY_DIR}/signing_key.pub.pem",
    "INTEGRATION_GENERATE_KEYS": "false",
    "INTEGRATION_SECRETS_KEY_FILE": f"{INTEGRATION_KEY_DIR}/secrets.key",
    "STANDARDS_DIR": STANDARDS_DIR,
    "XDG_CACHE_HOME": "/tmp/.cache",     # the root filesystem is read-only (fontconfig's cache for PDF reports)
}


def settings(config_text):
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("mes-settings"), "data": dict(SETTINGS)},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("mes-config"), "data": {"config.yml": config_text}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("mes"), "automountServiceAccountToken": False},
        # the official QIF 3.0 and B2MML schemas (never in the image: copied in once, docs/operations.md)
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta("mes-standards"),
         "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}},
    ]


def database_cluster(spec, instances, storage, superuser_secret=None):
    """A service's own PostgreSQL through the CloudNativePG operator: its pods carry
    the label the network policies admit the service by. The service's roles and
    database are made by its migration Job (`mes db create`, as the superuser)."""
    name = k8s_name(spec.name)
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": _meta(f"{name}-db", spec.name,
                                                                                         "database"),
            "spec": {"instances": instances, "enableSuperuserAccess": True,
                     "inheritedMetadata": {"labels": {DATABASE_LABEL: name}},
                     "storage": {"size": storage},
                     # every instance of the service: pool + overflow (DB_POOL_SIZE 10 each), up to the autoscaler's 6
                     "postgresql": {"parameters": {"max_connections": "200"}},
                     "monitoring": {"enablePodMonitor": True},
                     **({"superuserSecret": {"name": superuser_secret}} if superuser_secret else {})}}


def database_clusters(instances, storage, superuser_secret=None):
    return [database_cluster(spec, instances, storage, superuser_secret)
            for spec in registry.SERVICES if spec.database]


# overlay -> (instances, storage, superuser Secret: None lets the operator make one per cluster)
OVERLAY_DATABASES = {"dev": (1, "2Gi", "mes-db-superuser"), "production": (3, "20Gi", None)}


def base_manifests(config_text):
    """file name -> the manifests in it."""
    files = {"settings.yaml": settings(config_text), "network-policies.yaml": network_policies(),
             "broker-logins-job.yaml": [broker_logins_job()]}
    for spec in registry.processes():
        documents = [deployment(spec), metrics_service(spec), disruption_budget(spec)]
        if spec.name in AUTOSCALED:
            documents.append(autoscaler(spec))
        if spec.database:
            documents.append(migration_job(spec))
        files[f"{k8s_name(spec.name)}.yaml"] = documents
    files["kustomization.yaml"] = [{
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "labels": [{"pairs": {"app.kubernetes.io/part-of": PART_OF}}],
        "resources": sorted(name for name in files)}]
    return files
