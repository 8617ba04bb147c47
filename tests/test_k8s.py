"""The Kubernetes manifests (deploy/k8s): made from the registry, rendered by
kustomize as `kubectl apply -k` would, valid against the Kubernetes API
schemas, and holding the invariants operations rely on."""
import copy
import os
import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner

from mes_common import deploy, registry
from mes_common.cli import main
from mes_common.config import ROOT

pytestmark = pytest.mark.fast

K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.30.0"          # the oldest release the manifests target (matchLabelKeys, autoscaling/v2)
OPERATOR_KINDS = {"Cluster": "postgresql.cnpg.io/v1", "RabbitmqCluster": "rabbitmq.com/v1beta1"}
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^@\s/]+@")


def kustomize(directory):
    """`kubectl kustomize`, the renderer `kubectl apply -k` uses."""
    if shutil.which("kubectl") is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is needed to render the manifests (kustomize) and is not on this machine")
        pytest.skip("kubectl (kustomize) is not installed")
    done = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """overlay -> its documents. The dev overlay's keys are made as its README says."""
    copy_of = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, copy_of)
    keys = copy_of / "overlays" / "dev" / "keys"
    result = CliRunner().invoke(main, ["generate-keys", "--out", str(keys)])
    assert result.exit_code == 0, result.output
    (keys / "integration-secrets.key").write_text("not-a-real-key")
    return {overlay: kustomize(copy_of / "overlays" / overlay) for overlay in ("dev", "production")}


def of_kind(documents, kind):
    return [d for d in documents if d["kind"] == kind]


def pod_specs(documents):
    for d in documents:
        if d["kind"] in ("Deployment", "Job"):
            yield d, d["spec"]["template"]["spec"]


def test_the_committed_manifests_are_what_the_registry_makes():
    result = CliRunner().invoke(main, ["deploy", "k8s", "--check"])
    assert result.exit_code == 0, f"run `mes deploy k8s`:\n{result.output}"


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_every_object_is_valid_against_the_kubernetes_schemas(rendered, overlay):
    checked = 0
    for document in rendered[overlay]:
        if document["kind"] in OPERATOR_KINDS:   # custom resources: their operators' schemas are not here
            assert document["apiVersion"] == OPERATOR_KINDS[document["kind"]]
            assert document["spec"]["replicas" if document["kind"] == "RabbitmqCluster" else "instances"] >= 1
            continue
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
        checked += 1
    assert checked > 60


def test_the_validator_refuses_a_broken_manifest(rendered):
    """(so that the test above can fail)"""
    broken = copy.deepcopy(of_kind(rendered["production"], "Deployment")[0])
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)
    broken = copy.deepcopy(of_kind(rendered["production"], "Deployment")[0])
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_every_process_runs_with_probes_limits_a_budget_and_least_privilege(rendered, overlay):
    documents = rendered[overlay]
    deployments = {d["metadata"]["name"]: d for d in of_kind(documents, "Deployment")
                   if d["metadata"]["labels"].get("app.kubernetes.io/part-of") == "mes"}
    assert set(deployments) == {deploy.k8s_name(spec.name) for spec in registry.processes()}
    budgets = {d["metadata"]["name"] for d in of_kind(documents, "PodDisruptionBudget")}
    assert budgets == set(deployments)
    for _, pod in pod_specs(documents):
        for container in pod.get("initContainers", []) + pod["containers"]:
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), container["name"]
            assert {"cpu", "memory"} <= set(resources.get("limits", {})), container["name"]
            if container["image"].endswith(":dev") or "mes-platform" in container["image"]:
                security = container["securityContext"]
                assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
                assert security["allowPrivilegeEscalation"] is False
    for name, d in deployments.items():
        main_container = d["spec"]["template"]["spec"]["containers"][0]
        assert main_container.get("readinessProbe") and main_container.get("livenessProbe"), name
        port_names = {p["name"] for p in main_container["ports"]}
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            port = main_container[probe].get("httpGet", {}).get("port")
            assert port is None or port in port_names, (name, probe)
    autoscaled = {d["spec"]["scaleTargetRef"]["name"] for d in of_kind(documents, "HorizontalPodAutoscaler")}
    assert autoscaled == {deploy.k8s_name(name) for name in deploy.AUTOSCALED}


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_each_database_is_migrated_by_its_own_job_before_its_pods_start(rendered, overlay):
    documents = rendered[overlay]
    jobs = {d["metadata"]["name"]: d for d in of_kind(documents, "Job")}
    for spec in registry.SERVICES:
        if not spec.database:
            continue
        job = jobs[f"{deploy.k8s_name(spec.name)}-migrate"]
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate", spec.name]
        [dep] = [d for d in of_kind(documents, "Deployment") if d["metadata"]["name"] == deploy.k8s_name(spec.name)]
        [init] = dep["spec"]["template"]["spec"]["initContainers"]
        assert init["args"] == ["await-schema", spec.name]
    assert jobs["mes-broker-logins"]["spec"]["template"]["spec"]["containers"][0]["args"] == ["broker-logins"]


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_no_secret_is_in_a_config_map_and_only_auth_mounts_the_private_key(rendered, overlay):
    documents = rendered[overlay]
    for config_map in of_kind(documents, "ConfigMap"):
        for key, value in (config_map.get("data") or {}).items():
            # a setting naming where a secret is mounted (…_FILE) is fine, the secret itself is not
            assert key.endswith("_FILE") or not re.search(r"PASSWORD|SECRET|TOKEN", key), (
                config_map["metadata"]["name"], key)
            assert "PRIVATE KEY" not in value, (config_map["metadata"]["name"], key)
            # RabbitMQ's local-only guest login is config.yml's default for a developer's machine
            leaked = [m for m in CREDENTIALS_IN_URL.findall(value.replace("guest:guest@", ""))]
            assert not leaked, (config_map["metadata"]["name"], key, leaked)
    holders = {d["metadata"]["name"] for d, pod in pod_specs(documents)
               if any(v.get("secret", {}).get("secretName", "").startswith("mes-auth-keys")   # (dev: a hash added)
                      for v in pod.get("volumes", []))}
    assert holders == {"mes-auth"}
    for d, pod in pod_specs(documents):   # and no other Secret carries it into a pod by environment
        for container in pod.get("initContainers", []) + pod["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef", {})
                assert not ref.get("name", "").startswith("mes-auth-keys"), d["metadata"]["name"]


def test_production_takes_its_secrets_from_the_cluster_and_dev_only_placeholders(rendered):
    assert of_kind(rendered["production"], "Secret") == []
    for secret in of_kind(rendered["dev"], "Secret"):
        if secret["metadata"]["name"].startswith(("mes-auth-keys", "mes-integration-keys")):
            continue   # made on the spot by `mes generate-keys`
        import base64
        for key, value in secret["data"].items():
            text = base64.b64decode(value).decode()
            assert "dev-" in text or text.startswith(("postgres", "redis://")), (secret["metadata"]["name"], key)


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_only_the_gateway_is_reachable_and_each_service_reaches_only_its_database(rendered, overlay):
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(rendered[overlay], "NetworkPolicy")}
    deny = policies["mes-default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert deny["ingress"] == [] and deny["egress"] == []
    open_to_all = [name for name, spec in policies.items()
                   for rule in spec.get("ingress", []) if "from" not in rule]
    assert open_to_all == ["mes-gateway-ingress"]
    assert policies["mes-gateway-ingress"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "mes-gateway"
    clusters = {c["metadata"]["name"]: c for c in of_kind(rendered[overlay], "Cluster")}
    for spec in registry.SERVICES:
        if not spec.database:
            continue
        name = deploy.k8s_name(spec.name)
        egress = policies[f"{name}-database-egress"]
        assert egress["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        [rule] = egress["egress"]
        assert rule["to"] == [{"podSelector": {"matchLabels": {deploy.DATABASE_LABEL: name}}}]
        # its database server's pods carry that label, and admit only the service (and their own)
        labels = clusters[f"{name}-db"]["spec"]["inheritedMetadata"]["labels"]
        assert labels == {deploy.DATABASE_LABEL: name}
        ingress = policies[f"{name}-database-ingress"]["ingress"]
        assert ingress[0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}]


def test_production_runs_three_node_rabbitmq_and_three_instance_databases(rendered):
    [rabbit] = of_kind(rendered["production"], "RabbitmqCluster")
    assert rabbit["spec"]["replicas"] == 3 and "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"][
        "additionalConfig"]
    clusters = of_kind(rendered["production"], "Cluster")
    assert len(clusters) == sum(1 for s in registry.SERVICES if s.database)
    assert all(c["spec"]["instances"] == 3 for c in clusters)
