/* hv_libvirt_migrate.c: libvirt's migrate, xml and volume_send. Contract stub: issue 16 fills it. */
typedef int sov_hv_libvirt_migrate_unused;
