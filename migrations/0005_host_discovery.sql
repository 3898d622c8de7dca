-- 0005_host_discovery.sql: why a host runs its guests under TCG rather than KVM. Discovery
-- records the choice per host (hosts.hypervisor) so the domain XML builder never guesses; the
-- reason beside it lets an operator see what to fix (no /dev/kvm, no vmx/svm, kvm_pvm, ...).

ALTER TABLE hosts ADD COLUMN hypervisor_reason text NOT NULL DEFAULT '';
