from fake_portal.cli import main

raise SystemExit(main())
