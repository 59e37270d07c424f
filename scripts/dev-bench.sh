#!/usr/bin/env bash
# Build a development bench with upstream Frappe and ERPNext 15 and install this app on two sites:
# dev.localhost to use by hand, test.localhost for the test suite (tests leave records behind).
#
#   scripts/dev-bench.sh            # bench in ~/frappe-bench
#   BENCH_DIR=/srv/bench scripts/dev-bench.sh
#
# Needs Debian or Ubuntu, Python 3.10+, Node 18+, and sudo or root. FRAPPE_REPO and ERPNEXT_REPO
# may name other clones (a local path or URL) of the version-15 branches. INDIA_COMPLIANCE=1 adds
# India Compliance (INDIA_COMPLIANCE_REPO) and a third site, ic.localhost, for its tests.
set -euo pipefail

BENCH_DIR=${BENCH_DIR:-$HOME/frappe-bench}
FRAPPE_REPO=${FRAPPE_REPO:-https://github.com/frappe/frappe}
ERPNEXT_REPO=${ERPNEXT_REPO:-https://github.com/frappe/erpnext}
INDIA_COMPLIANCE_REPO=${INDIA_COMPLIANCE_REPO:-https://github.com/resilient-tech/india-compliance}
BRANCH=${BRANCH:-version-15}
DB_ROOT_PASSWORD=${DB_ROOT_PASSWORD:-root}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin}
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)

install_system_packages() {
	$SUDO apt-get update
	$SUDO apt-get install -y mariadb-server mariadb-client redis-server libmariadb-dev pkg-config git curl
	command -v yarn >/dev/null || $SUDO npm install -g yarn
	python3 -m pip install --user --upgrade frappe-bench || python3 -m pip install --upgrade frappe-bench
}

configure_mariadb() {
	$SUDO tee /etc/mysql/mariadb.conf.d/99-frappe.cnf >/dev/null <<'CNF'
[mysqld]
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
[mysql]
default-character-set = utf8mb4
CNF
	$SUDO service mariadb restart || ($SUDO mysqld_safe >/dev/null 2>&1 & sleep 5)
	$SUDO mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('${DB_ROOT_PASSWORD}'); FLUSH PRIVILEGES;" \
		|| mariadb -uroot -p"${DB_ROOT_PASSWORD}" -e "SELECT 1" >/dev/null
}

init_bench() {
	[ -d "$BENCH_DIR/apps/frappe" ] && return
	# bench refuses to run as root unless the sites config it reads names root as the bench's user;
	# `bench init` reads the one of the folder it runs in.
	local boot
	boot=$(mktemp -d)
	mkdir -p "$boot/sites"
	[ "$(id -u)" = 0 ] && echo '{"frappe_user": "root"}' >"$boot/sites/common_site_config.json"
	(cd "$boot" && bench init "$BENCH_DIR" --frappe-path "$FRAPPE_REPO" --frappe-branch "$BRANCH" \
		--python "$(command -v python3)" --no-backups)
	cd "$BENCH_DIR"
	[ "$(id -u)" = 0 ] && bench config set-common-config -c frappe_user root
	bench get-app --branch "$BRANCH" "$ERPNEXT_REPO"
	bench setup requirements --dev
	# setuptools 81 drops pkg_resources, which Frappe 15 still imports.
	env/bin/pip install 'setuptools<81'
	bench set-config -g developer_mode 1
}

start_redis() {
	cd "$BENCH_DIR"
	[ -f config/redis_cache.conf ] || bench setup redis
	for conf in config/redis_cache.conf config/redis_queue.conf; do
		redis-cli -p "$(awk '/^port/ {print $2}' "$conf")" ping >/dev/null 2>&1 || redis-server "$conf" --daemonize yes
	done
}

make_site() {
	local site=$1
	cd "$BENCH_DIR"
	if [ ! -d "sites/$site" ]; then
		bench new-site "$site" --db-root-password "$DB_ROOT_PASSWORD" --admin-password "$ADMIN_PASSWORD" --install-app erpnext
		# ERPNext's test setup (company, fiscal year, defaults) that the site tests expect
		[ "$site" = dev.localhost ] || bench --site "$site" execute erpnext.setup.utils.before_tests
	fi
	bench --site "$site" install-app salesforce_connector || bench --site "$site" migrate
}

make_india_compliance_site() {
	cd "$BENCH_DIR"
	[ -d apps/india_compliance ] || bench get-app --branch "$BRANCH" "$INDIA_COMPLIANCE_REPO"
	if [ ! -d sites/ic.localhost ]; then
		bench new-site ic.localhost --db-root-password "$DB_ROOT_PASSWORD" --admin-password "$ADMIN_PASSWORD" --install-app erpnext
		bench --site ic.localhost execute erpnext.setup.utils.before_tests
		bench --site ic.localhost install-app india_compliance
	fi
	bench --site ic.localhost install-app salesforce_connector || bench --site ic.localhost migrate
	bench --site ic.localhost set-config allow_tests true
}

install_system_packages
configure_mariadb
init_bench
start_redis
cd "$BENCH_DIR"
[ -e apps/salesforce_connector ] || ln -s "$APP_DIR" apps/salesforce_connector
env/bin/pip install -e apps/salesforce_connector
grep -qx salesforce_connector sites/apps.txt || printf '\nsalesforce_connector' >> sites/apps.txt
sed -i '/^$/d' sites/apps.txt
make_site dev.localhost
make_site test.localhost
bench --site test.localhost set-config allow_tests true
[ "${INDIA_COMPLIANCE:-0}" = 1 ] && make_india_compliance_site
echo "Bench ready in $BENCH_DIR. Start it with: cd $BENCH_DIR && bench start"
